#include "server/ingress/ingress_server.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/context.hpp"
#include "common/base/log.h"
#include "common/base/thread_deferral.h"
#include "common/base/thread_name.h"
#include "server/ingress/http_session.h"
#include "server/ingress/listener.h"
#include "server/ingress/peer_limits.h"
#include "server/ingress/tls_context.h"
#include "server/ingress/webhook_handler.h"

namespace hookstream::ingress {

namespace net = boost::asio;

namespace {

// Runs deferred work on the loop's own thread, after what it has queued.
class LoopDeferrer final : public ThreadDeferrer {
 public:
  explicit LoopDeferrer(net::io_context& loop) : loop_(loop) {}
  void Defer(absl::AnyInvocable<void() &&> work) override {
    net::post(loop_, [work = std::move(work)]() mutable { std::move(work)(); });
  }

 private:
  net::io_context& loop_;
};

}  // namespace

// Declaration order is destruction order in reverse: the event loops (and
// with them every session and pending handler) go before the handler,
// metrics and TLS context that sessions reference.
struct IngressServer::Impl {
  Impl(const IngressOptions& options, SourceRegistry sources,
       EventAppender& appender, const Clock& clock)
      : options(options),
        session_options{
            .max_body_bytes = options.max_body_bytes,
            .max_header_bytes = options.max_header_bytes,
            .idle_timeout = options.idle_timeout,
            .header_timeout = options.header_timeout,
            .body_timeout = options.body_timeout,
            .write_timeout = options.write_timeout,
            .untrusted_idle_timeout = options.untrusted_idle_timeout},
        clock(clock),
        handler({.max_body_bytes = options.max_body_bytes,
                 .max_event_id_bytes = options.max_event_id_bytes,
                 .max_event_bytes = options.max_event_bytes},
                std::move(sources), appender, metrics) {}

  const IngressOptions options;
  const HttpSession::Options session_options;
  const Clock& clock;
  IngressMetrics metrics;
  WebhookHandler handler;
  // Every context loaded, the newest last; `tls` points at it. Old ones stay
  // until Stop: sessions made with them hold references (a few KB each, one
  // per reload).
  absl::Mutex tls_mu;
  std::vector<std::unique_ptr<net::ssl::context>> tls_contexts
      ABSL_GUARDED_BY(tls_mu);
  std::atomic<net::ssl::context*> tls{nullptr};
  // One event loop per I/O thread (as nginx and Envoy workers do): a
  // connection lives on one loop, so its handlers need no strand and never
  // wake another thread. The listener accepts on the first.
  std::vector<std::unique_ptr<net::io_context>> loops;
  // Keep each loop running while it has no connection yet.
  std::vector<net::executor_work_guard<net::io_context::executor_type>>
      keep_running;
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
      o.body_timeout <= absl::ZeroDuration() ||
      o.write_timeout <= absl::ZeroDuration()) {
    return bad("timeouts must be > 0");
  }
  if (o.untrusted_idle_timeout <= absl::ZeroDuration()) {
    return bad("untrusted_idle_timeout must be > 0");
  }
  if (o.max_event_id_bytes == 0) return bad("max_event_id_bytes must be > 0");
  if (!(o.peer_rate_per_second >= 0) || !(o.peer_rate_burst >= 0)) {
    return bad("peer rate and burst must be >= 0");
  }
  if (absl::StatusOr<std::vector<Cidr>> cidrs = ParseCidrList(o.allow_cidrs);
      !cidrs.ok()) {
    return bad(absl::StrCat("allow_cidrs: ", cidrs.status().message()));
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
    IngressOptions options, SourceRegistry sources, EventAppender& appender,
    const Clock& clock) {
  if (absl::Status s = ValidateIngressOptions(options); !s.ok()) return s;
  if (sources.empty()) {
    return absl::InvalidArgumentError("ingress: no webhook source configured");
  }
  const std::vector<std::string> names = sources.Names();
  auto impl =
      std::make_unique<Impl>(options, std::move(sources), appender, clock);

  absl::StatusOr<std::unique_ptr<net::ssl::context>> tls = MakeServerTlsContext(
      {.cert_file = options.cert_file, .key_file = options.key_file});
  if (!tls.ok()) return tls.status();
  {
    absl::MutexLock lock(&impl->tls_mu);
    impl->tls_contexts.push_back(*std::move(tls));
    impl->tls.store(impl->tls_contexts.back().get());
  }

  std::vector<net::io_context::executor_type> executors;
  for (int i = 0; i < options.io_threads; ++i) {
    // Concurrency hint 1: each loop is run by one thread.
    impl->loops.push_back(std::make_unique<net::io_context>(1));
    executors.push_back(impl->loops.back()->get_executor());
    impl->keep_running.push_back(net::make_work_guard(*impl->loops.back()));
  }
  absl::StatusOr<std::vector<Cidr>> allow = ParseCidrList(options.allow_cidrs);
  if (!allow.ok()) return allow.status();
  auto peers = std::make_shared<PeerLimits>(
      PeerLimits::Options{
          .allow = *std::move(allow),
          .max_connections_per_peer = options.max_connections_per_peer,
          .rate_per_second = options.peer_rate_per_second,
          .burst = options.peer_rate_burst},
      clock);
  Impl* state = impl.get();
  absl::StatusOr<std::shared_ptr<Listener>> listener = Listener::Create(
      *impl->loops.front(), std::move(executors), options.address, options.port,
      options.max_connections, impl->metrics,
      [state](net::ip::tcp::socket socket, ConnectionSlot slot) {
        std::make_shared<HttpSession>(
            std::move(socket), *state->tls.load(), state->session_options,
            state->handler, state->metrics, state->clock, std::move(slot))
            ->Start();
      },
      std::move(peers));
  if (!listener.ok()) return listener.status();
  impl->listener = *std::move(listener);
  impl->port = impl->listener->port();
  impl->listener->Start();
  for (size_t i = 0; i < impl->loops.size(); ++i) {
    impl->threads.emplace_back([loop = impl->loops[i].get(), i] {
      NameCurrentThread(absl::StrCat("hs-https-", i));
      // What the appender leaves for later (thread_deferral.h) runs after
      // the handlers this loop has already queued.
      LoopDeferrer deferrer(*loop);
      ScopedThreadDeferrer scope(&deferrer);
      loop->run();
    });
  }
  LogRecord(LogLevel::kInfo, "ingress listening")
      .Add("address", options.address)
      .Add("port", impl->port)
      .Add("sources", absl::StrJoin(names, ","))
      .Add("io_threads", options.io_threads)
      .Add("max_body_bytes", options.max_body_bytes)
      .Add("max_connections", options.max_connections)
      .Add("max_connections_per_peer", options.max_connections_per_peer)
      .Add("allow_cidrs", options.allow_cidrs.empty() ? std::string("any")
                                                      : options.allow_cidrs)
      .Add("peer_rate_per_second", options.peer_rate_per_second);
  return std::unique_ptr<IngressServer>(new IngressServer(std::move(impl)));
}

uint16_t IngressServer::port() const { return impl_->port; }

absl::Status IngressServer::ReloadTls() {
  absl::StatusOr<std::unique_ptr<net::ssl::context>> tls =
      MakeServerTlsContext({.cert_file = impl_->options.cert_file,
                            .key_file = impl_->options.key_file});
  if (!tls.ok()) return tls.status();
  absl::MutexLock lock(&impl_->tls_mu);
  impl_->tls_contexts.push_back(*std::move(tls));
  impl_->tls.store(impl_->tls_contexts.back().get());
  return absl::OkStatus();
}

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
  impl_->keep_running.clear();
  for (const std::unique_ptr<net::io_context>& loop : impl_->loops) {
    loop->stop();
  }
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->listener.reset();
  // Destroying the loops destroys every pending handler, and with them the
  // sessions they own: their sockets close here.
  impl_->loops.clear();
  LogRecord(LogLevel::kInfo, "ingress stopped");
}

const IngressMetrics& IngressServer::metrics() const { return impl_->metrics; }

}  // namespace hookstream::ingress
