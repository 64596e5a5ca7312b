// -----------------------------------------------------------------------------
// File: listener.h
// -----------------------------------------------------------------------------
// Listener accepts TCP connections on one address and hands each socket to a
// callback, together with a ConnectionSlot that keeps the connection counted
// until it is released. Accepted sockets go to the session executors in
// turn (one event loop per I/O thread), so a connection's handlers always run
// on one thread. Past `max_connections` open connections, from a peer
// outside the allowlist, or past the peer's own cap (PeerLimits), new ones
// are closed at once, counted as refused and logged (one line each, with
// the reason and the peer).
//
// Example:
//   ASSIGN_OR_RETURN(auto listener,
//                    Listener::Create(ioc, {loop1.get_executor(),
//                                           loop2.get_executor()},
//                                     "127.0.0.1", 0, 10000, metrics,
//                                     [&](tcp::socket s, ConnectionSlot slot) {
//                                       MakeSession(std::move(s), ...);
//                                     }));
//   listener->Start();
//   uint16_t port = listener->port();
//   ...
//   listener->Close();  // stops accepting (posted to the listener's strand)
//
// Thread-safety: Start and Close may be called from any thread; the accept
// loop runs on `ioc`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "common/base/log.h"
#include "server/ingress/http_session.h"
#include "server/ingress/ingress_metrics.h"
#include "server/ingress/peer_limits.h"

namespace hookstream::ingress {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using OnAccept =
      std::function<void(boost::asio::ip::tcp::socket, ConnectionSlot)>;

  // Binds and listens. UNAVAILABLE / INVALID_ARGUMENT naming the address
  // when that fails (port in use, bad address, no permission).
  static absl::StatusOr<std::shared_ptr<Listener>> Create(
      boost::asio::io_context& ioc,
      std::vector<boost::asio::io_context::executor_type> session_executors,
      const std::string& address, uint16_t port, size_t max_connections,
      IngressMetrics& metrics, OnAccept on_accept,
      std::shared_ptr<PeerLimits> peers = nullptr);

  void Start();
  void Close();
  uint16_t port() const { return port_; }

  Listener(
      boost::asio::io_context& ioc,
      std::vector<boost::asio::io_context::executor_type> session_executors,
      size_t max_connections, IngressMetrics& metrics, OnAccept on_accept,
      std::shared_ptr<PeerLimits> peers);

 private:
  void DoAccept();
  void OnAcceptDone(boost::system::error_code ec,
                    boost::asio::ip::tcp::socket socket);

  const std::vector<boost::asio::io_context::executor_type> session_executors_;
  size_t next_executor_ = 0;  // guarded by strand_
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // backoff after accept errors
  // One line per failure class per 10 s, however many (log.h).
  LogLimiter accept_failed_log_{absl::Seconds(10)};
  LogLimiter refused_log_{absl::Seconds(10)};
  const size_t max_connections_;
  IngressMetrics& metrics_;
  const OnAccept on_accept_;
  const std::shared_ptr<std::atomic<size_t>> active_;
  const std::shared_ptr<PeerLimits> peers_;  // may be null
  uint16_t port_ = 0;
};

}  // namespace hookstream::ingress
