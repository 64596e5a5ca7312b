#include "server/ingress/listener.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "common/base/log.h"

namespace hookstream::ingress {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(
    net::io_context& ioc,
    std::vector<net::io_context::executor_type> session_executors,
    size_t max_connections, IngressMetrics& metrics, OnAccept on_accept,
    std::shared_ptr<PeerLimits> peers)
    : session_executors_(std::move(session_executors)),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      retry_timer_(strand_),
      max_connections_(max_connections),
      metrics_(metrics),
      on_accept_(std::move(on_accept)),
      active_(std::make_shared<std::atomic<size_t>>(0)),
      peers_(std::move(peers)) {}

absl::StatusOr<std::shared_ptr<Listener>> Listener::Create(
    net::io_context& ioc,
    std::vector<net::io_context::executor_type> session_executors,
    const std::string& address, uint16_t port, size_t max_connections,
    IngressMetrics& metrics, OnAccept on_accept,
    std::shared_ptr<PeerLimits> peers) {
  if (session_executors.empty()) {
    return absl::InvalidArgumentError("ingress: no session executor");
  }
  boost::system::error_code ec;
  const net::ip::address ip = net::ip::make_address(address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("ingress address '", address, "' is not an IP address"));
  }
  auto listener = std::make_shared<Listener>(
      ioc, std::move(session_executors), max_connections, metrics,
      std::move(on_accept), std::move(peers));
  const tcp::endpoint endpoint(ip, port);
  const std::string where = absl::StrCat(address, ":", port);
  tcp::acceptor& acceptor = listener->acceptor_;
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot open a socket for ", where, ": ", ec.message()));
  }
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", where, ": ", ec.message()));
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", where, ": ", ec.message()));
  }
  listener->port_ = acceptor.local_endpoint(ec).port();
  return listener;
}

void Listener::Start() {
  net::dispatch(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Close() {
  net::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::DoAccept() {
  // Each event loop is run by exactly one thread, so a connection's
  // handlers never run concurrently without a strand, and no handler hops
  // between threads.
  const net::io_context::executor_type& executor =
      session_executors_[next_executor_];
  next_executor_ = (next_executor_ + 1) % session_executors_.size();
  acceptor_.async_accept(
      executor, boost::beast::bind_front_handler(&Listener::OnAcceptDone,
                                                 shared_from_this()));
}

void Listener::OnAcceptDone(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // EMFILE and friends: usually transient. Back off briefly instead of
    // spinning on the error (and flooding the log).
    if (uint64_t suppressed = 0;
        accept_failed_log_.Allow(absl::Now(), &suppressed)) {
      LogRecord(LogLevel::kWarning, "accept failed")
          .Add("error", ec.message())
          .Add("suppressed", suppressed);
    }
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait(
        [self = shared_from_this()](boost::system::error_code wait_ec) {
          if (!wait_ec && self->acceptor_.is_open()) self->DoAccept();
        });
    return;
  }
  boost::system::error_code peer_ec;
  const tcp::endpoint remote = socket.remote_endpoint(peer_ec);
  const net::ip::address peer = remote.address();
  const char* refused = nullptr;
  if (peer_ec) {
    refused = "peer_gone";  // reset before we got to it
  } else if (active_->load(std::memory_order_relaxed) >= max_connections_) {
    refused = "connection_cap";
  } else if (peers_ != nullptr && !peers_->Allowed(peer)) {
    refused = "not_allowed";
  } else if (peers_ != nullptr && !peers_->TryOpenConnection(peer)) {
    refused = "peer_connection_cap";
  }
  if (refused != nullptr) {
    // No answer: nothing has been read, and a TLS handshake would cost more
    // than the refusal. The peer sees the connection closed at once.
    metrics_.CountConnectionRefused();
    // A flood is one line per interval (with how many it stands for); the
    // counter has every one.
    if (uint64_t suppressed = 0; refused_log_.Allow(absl::Now(), &suppressed)) {
      LogRecord(LogLevel::kWarning, "connection refused")
          .Add("reason", refused)
          .Add("peer", peer_ec ? std::string("?") : peer.to_string())
          .Add("suppressed", suppressed);
    }
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    active_->fetch_add(1, std::memory_order_relaxed);
    metrics_.CountConnectionAccepted();
    metrics_.ConnectionOpened();
    on_accept_(std::move(socket),
               ConnectionSlot(active_, &metrics_, peers_, peer));
  }
  DoAccept();
}

}  // namespace hookstream::ingress
