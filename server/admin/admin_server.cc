#include "server/admin/admin_server.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/base/log.h"

namespace hookstream::admin {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kMaxHeaderBytes = 8 << 10;

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminServer::Routes& routes,
          absl::Duration timeout, std::atomic<size_t>& open)
      : stream_(std::move(socket)),
        routes_(routes),
        timeout_(absl::ToChronoSeconds(timeout)),
        open_(open) {}
  ~Session() { open_.fetch_sub(1, std::memory_order_relaxed); }

  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(0);  // GET and HEAD only: no body is read
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {  // closed, timed out, or unparsable: nothing to answer
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
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
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec || !self->response_->keep_alive()) {
            beast::error_code ignored;
            self->stream_.socket().shutdown(tcp::socket::shutdown_both,
                                            ignored);
            return;
          }
          self->Read();
        });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::unique_ptr<http::response<http::string_body>> response_;
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
          std::make_shared<Session>(std::move(socket), routes, options.timeout,
                                    open)
              ->Read();
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
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  LogRecord(LogLevel::kInfo, "admin server started")
      .Add("address", raw->options.address)
      .Add("port", raw->port);
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

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
