#include "server/admin/admin_server.h"

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/base/log.h"
#include "common/base/thread_name.h"

namespace hookstream::admin {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kMaxHeaderBytes = 8 << 10;

// Whether `given` equals `want`, in time that depends only on their lengths.
bool ConstantTimeEquals(absl::string_view given, absl::string_view want) {
  unsigned char diff = given.size() == want.size() ? 0 : 1;
  for (size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(want[i]) ^
            static_cast<unsigned char>(i < given.size() ? given[i] : 0);
  }
  return diff == 0;
}

// One connection: (a TLS handshake,) read a request, answer it, repeat
// while keep-alive. `Stream` is beast::tcp_stream or an ssl_stream over it.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, const AdminOptions& options,
          const AdminServer::Routes& routes, std::atomic<size_t>& open)
      : stream_(std::move(stream)),
        options_(options),
        routes_(routes),
        timeout_(absl::ToChronoSeconds(options.timeout)),
        open_(open) {}
  ~Session() { open_.fetch_sub(1, std::memory_order_relaxed); }

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      Read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(timeout_);
      stream_.async_handshake(
          net::ssl::stream_base::server,
          [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->Close();  // not TLS, or a bad handshake
            self->Read();
          });
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(0);  // GET and HEAD only: no body is read
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](
                         beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(
        tcp::socket::shutdown_both, ignored);
  }

  bool Authorized(const http::request<http::empty_body>& req,
                  absl::string_view path) const {
    if (options_.token.empty()) return true;
    for (const std::string& p : options_.public_paths) {
      if (p == path) return true;
    }
    const auto it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    absl::string_view value(it->value().data(), it->value().size());
    constexpr absl::string_view kBearer = "Bearer ";
    if (value.size() < kBearer.size() ||
        !absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
      return false;
    }
    return ConstantTimeEquals(value.substr(kBearer.size()), options_.token);
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Close();  // closed, timed out, or unparsable
    const http::request<http::empty_body>& req = parser_->get();
    response_ = std::make_unique<http::response<http::string_body>>();
    response_->version(req.version());
    response_->set(http::field::server, "hookstream-admin");
    response_->set(http::field::cache_control, "no-store");
    const absl::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    const absl::string_view path = target.substr(0, q);
    const absl::string_view query =
        q == absl::string_view::npos ? "" : target.substr(q + 1);
    AdminResponse answer;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      answer = {.status = 405, .body = "GET only\n"};
      response_->set(http::field::allow, "GET, HEAD");
    } else if (!Authorized(req, path)) {
      answer = {.status = 401, .body = "a bearer token is required\n"};
      response_->set(http::field::www_authenticate, "Bearer");
    } else if (auto it = routes_.find(path); it != routes_.end()) {
      answer = it->second(query);
    } else {
      answer = {.status = 404, .body = "not found\n"};
    }
    response_->result(answer.status);
    response_->set(http::field::content_type, answer.content_type);
    response_->body() = std::move(answer.body);
    response_->prepare_payload();
    if (req.method() == http::verb::head) response_->body().clear();
    response_->keep_alive(req.keep_alive());
    http::async_write(
        stream_, *response_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec || !self->response_->keep_alive()) return self->Close();
          self->Read();
        });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::unique_ptr<http::response<http::string_body>> response_;
  const AdminOptions& options_;
  const AdminServer::Routes& routes_;
  const std::chrono::seconds timeout_;
  std::atomic<size_t>& open_;
};

}  // namespace

struct AdminServer::Impl {
  // Before ioc: the sessions the io_context destroys with it still use them.
  AdminOptions options;
  Routes routes;
  std::atomic<size_t> open{0};
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread thread;
  bool stopped = false;
  // Contexts replaced by Reload, kept while sessions may still use them.
  std::vector<std::shared_ptr<net::ssl::context>> retired_tls;

  void Accept() {
    acceptor.async_accept(ioc, [this](beast::error_code ec,
                                      tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;  // closed
      if (!ec) {
        if (open.load(std::memory_order_relaxed) >= options.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          open.fetch_add(1, std::memory_order_relaxed);
          if (options.tls != nullptr) {
            using TlsStream = beast::ssl_stream<beast::tcp_stream>;
            std::make_shared<Session<TlsStream>>(
                TlsStream(beast::tcp_stream(std::move(socket)), *options.tls),
                options, routes, open)
                ->Start();
          } else {
            std::make_shared<Session<beast::tcp_stream>>(
                beast::tcp_stream(std::move(socket)), options, routes, open)
                ->Start();
          }
        }
      }
      Accept();
    });
  }
};

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    AdminOptions options, Routes routes) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->routes = std::move(routes);
  beast::error_code ec;
  const net::ip::address ip = net::ip::make_address(impl->options.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin: bad address \"", impl->options.address, "\""));
  }
  const tcp::endpoint endpoint(ip, impl->options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("admin: cannot listen on ", impl->options.address, ":",
                     impl->options.port, ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    NameCurrentThread("hs-admin");
    raw->ioc.run();
  });
  LogRecord(LogLevel::kInfo, "admin server started")
      .Add("address", raw->options.address)
      .Add("port", raw->port)
      .Add("tls", raw->options.tls != nullptr)
      .Add("token", !raw->options.token.empty());
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::Status AdminServer::Reload(std::shared_ptr<net::ssl::context> tls,
                                 std::string token) {
  // Whether there is TLS never changes after Start: read from any thread.
  if ((tls == nullptr) != (impl_->options.tls == nullptr)) {
    return absl::FailedPreconditionError(
        "admin: TLS cannot be turned on or off without a restart");
  }
  if (impl_->stopped) return absl::FailedPreconditionError("admin: stopped");
  // Swapped on the admin thread, the only one that reads them.
  std::promise<void> swapped;
  net::post(impl_->ioc, [&] {
    impl_->retired_tls.push_back(std::move(impl_->options.tls));
    impl_->options.tls = std::move(tls);
    impl_->options.token = std::move(token);
    swapped.set_value();
  });
  swapped.get_future().wait();
  return absl::OkStatus();
}

AdminServer::~AdminServer() { Stop(); }

uint16_t AdminServer::port() const { return impl_->port; }

void AdminServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Stopping the loop drops every session with it (their handlers never
  // run again; the sockets close when the io_context is destroyed).
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The loop is gone, so nothing else touches the acceptor: close it, so
  // new connections are refused rather than left in the backlog.
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace hookstream::admin
