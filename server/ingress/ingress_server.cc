#include "server/ingress/ingress_server.h"

#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "common/base/log.h"
#include "server/ingress/http_session.h"
#include "server/ingress/listener.h"
#include "server/ingress/tls_context.h"
#include "server/ingress/webhook_handler.h"

namespace hookstream::ingress {

namespace net = boost::asio;

// Declaration order is destruction order in reverse: the io_context (and with
// it every session and pending handler) goes before the handler, metrics and
// TLS context that sessions reference.
struct IngressServer::Impl {
  Impl(const IngressOptions& options, SourceRegistry sources, EventRing& ring,
       const Clock& clock)
      : options(options),
        session_options{.max_body_bytes = options.max_body_bytes,
                        .max_header_bytes = options.max_header_bytes,
                        .idle_timeout = options.idle_timeout,
                        .header_timeout = options.header_timeout,
                        .body_timeout = options.body_timeout},
        clock(clock),
        handler({.max_body_bytes = options.max_body_bytes}, std::move(sources),
                ring, metrics) {}

  const IngressOptions options;
  const HttpSession::Options session_options;
  const Clock& clock;
  IngressMetrics metrics;
  WebhookHandler handler;
  std::unique_ptr<net::ssl::context> tls;
  std::optional<net::io_context> ioc;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  uint16_t port = 0;

  absl::Mutex stop_mu;
  bool stopped ABSL_GUARDED_BY(stop_mu) = false;
};

absl::Status ValidateIngressOptions(const IngressOptions& o) {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("ingress: ", what));
  };
  if (o.cert_file.empty() || o.key_file.empty()) {
    return bad("a TLS certificate file and key file are required");
  }
  if (o.max_body_bytes == 0) return bad("max_body_bytes must be > 0");
  if (o.max_header_bytes < 1024 || o.max_header_bytes > (1u << 30)) {
    return bad("max_header_bytes must be between 1 KiB and 1 GiB");
  }
  if (o.max_connections == 0) return bad("max_connections must be > 0");
  if (o.idle_timeout <= absl::ZeroDuration() ||
      o.header_timeout <= absl::ZeroDuration() ||
      o.body_timeout <= absl::ZeroDuration()) {
    return bad("timeouts must be > 0");
  }
  if (o.io_threads < 1 || o.io_threads > 256) {
    return bad("io_threads must be between 1 and 256");
  }
  return absl::OkStatus();
}

IngressServer::IngressServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

IngressServer::~IngressServer() { Stop(); }

absl::StatusOr<std::unique_ptr<IngressServer>> IngressServer::Start(
    IngressOptions options, SourceRegistry sources, EventRing& ring,
    const Clock& clock) {
  if (absl::Status s = ValidateIngressOptions(options); !s.ok()) return s;
  if (sources.empty()) {
    return absl::InvalidArgumentError("ingress: no webhook source configured");
  }
  const std::vector<std::string> names = sources.Names();
  auto impl = std::make_unique<Impl>(options, std::move(sources), ring, clock);

  absl::StatusOr<std::unique_ptr<net::ssl::context>> tls = MakeServerTlsContext(
      {.cert_file = options.cert_file, .key_file = options.key_file});
  if (!tls.ok()) return tls.status();
  impl->tls = *std::move(tls);

  impl->ioc.emplace(options.io_threads);
  Impl* state = impl.get();
  absl::StatusOr<std::shared_ptr<Listener>> listener = Listener::Create(
      *impl->ioc, options.address, options.port, options.max_connections,
      impl->metrics, [state](net::ip::tcp::socket socket, ConnectionSlot slot) {
        std::make_shared<HttpSession>(
            std::move(socket), *state->tls, state->session_options,
            state->handler, state->metrics, state->clock, std::move(slot))
            ->Start();
      });
  if (!listener.ok()) return listener.status();
  impl->listener = *std::move(listener);
  impl->port = impl->listener->port();
  impl->listener->Start();
  for (int i = 0; i < options.io_threads; ++i) {
    impl->threads.emplace_back([state] { state->ioc->run(); });
  }
  LogRecord(LogLevel::kInfo, "ingress listening")
      .Add("address", options.address)
      .Add("port", impl->port)
      .Add("sources", absl::StrJoin(names, ","))
      .Add("io_threads", options.io_threads)
      .Add("max_body_bytes", options.max_body_bytes);
  return std::unique_ptr<IngressServer>(new IngressServer(std::move(impl)));
}

uint16_t IngressServer::port() const { return impl_->port; }

void IngressServer::StartDraining() {
  if (!impl_->handler.draining()) {
    LogRecord(LogLevel::kInfo, "ingress draining");
  }
  impl_->handler.StartDraining();
}

void IngressServer::Stop() {
  {
    absl::MutexLock lock(&impl_->stop_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->handler.StartDraining();
  if (impl_->listener != nullptr) impl_->listener->Close();
  impl_->ioc->stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->listener.reset();
  // Destroying the io_context destroys every pending handler, and with them
  // the sessions they own: their sockets close here.
  impl_->ioc.reset();
  LogRecord(LogLevel::kInfo, "ingress stopped");
}

const IngressMetrics& IngressServer::metrics() const { return impl_->metrics; }

}  // namespace hookstream::ingress
