// -----------------------------------------------------------------------------
// File: http_session.h
// -----------------------------------------------------------------------------
// HttpSession serves one TLS connection: handshake, then HTTP/1.1 requests
// one at a time (keep-alive), each handed to the WebhookHandler.
//
// Per request:
//   wait for the first byte    idle_timeout (header_timeout for the first
//                              request; untrusted_idle_timeout while no
//                              request was validly signed); an idle
//                              keep-alive connection is closed silently
//   rate limit                 the peer's token bucket (PeerLimits) → 429
//   read the header            header_timeout; header_limit → 431 (exact:
//                              counted in bytes parsed, whatever the read
//                              chunking); too slow
//                              → 408; bad framing → 400; chunked / no length
//                              → 411; Content-Length over the limit → 413
//                              (decided before any body byte is read)
//   (Expect: 100-continue)     answered with 100 once the head is accepted
//   read the body              body_timeout → 408; client gone → logged
//   verify, convert, append    no read and no deadline while the backend
//                              keeps the event; its completion is moved
//                              back to this loop (the loop serves other
//                              connections meanwhile, never waits)
//   write the answer           one write in flight, always; write_timeout
//                              → closed (a client that stopped reading),
//                              counted and logged
// Answers that leave unread bytes (413, 408, 431, 411, ...) close the
// connection: the session half-closes and drains briefly so that the client
// reads the answer instead of a TCP reset.
//
// Deadlines use one timer; on expiry the pending read is cancelled and the
// read handler answers 408 (the timer never writes itself).
//
// Lifetime: owned by shared_ptrs held in its pending handlers; it ends when
// the last handler returns (or when the io_context is destroyed).
//
// Thread-safety: all handlers run on the connection's event loop, which one
// thread runs.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/base/clock.h"
#include "server/ingress/ingress_metrics.h"
#include "server/ingress/peer_limits.h"
#include "server/ingress/webhook_handler.h"

namespace hookstream::ingress {

// Releases one connection slot (and its peer's, see PeerLimits) when
// destroyed (see Listener).
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<std::atomic<size_t>> active,
                 IngressMetrics* metrics,
                 std::shared_ptr<PeerLimits> peers = nullptr,
                 boost::asio::ip::address peer = {})
      : active_(std::move(active)),
        metrics_(metrics),
        peers_(std::move(peers)),
        peer_(peer) {}
  ConnectionSlot(ConnectionSlot&&) = default;
  ConnectionSlot& operator=(ConnectionSlot&&) = default;
  ~ConnectionSlot() {
    if (active_ != nullptr) {
      active_->fetch_sub(1, std::memory_order_relaxed);
      metrics_->ConnectionClosed();
    }
    if (peers_ != nullptr) peers_->CloseConnection(peer_);
  }

  // The peer's limits (nullptr in tests that build a bare slot).
  PeerLimits* peers() const { return peers_.get(); }
  const boost::asio::ip::address& peer() const { return peer_; }

 private:
  std::shared_ptr<std::atomic<size_t>> active_;
  IngressMetrics* metrics_;
  std::shared_ptr<PeerLimits> peers_;
  boost::asio::ip::address peer_;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  struct Options {
    size_t max_body_bytes = size_t{1} << 20;
    size_t max_header_bytes = size_t{16} << 10;
    absl::Duration idle_timeout = absl::Seconds(60);
    absl::Duration header_timeout = absl::Seconds(10);
    absl::Duration body_timeout = absl::Seconds(30);
    // Writing one answer (or a 100 Continue): a client that stopped reading
    // and let its receive window fill is closed after it, counted and
    // logged, so it holds neither a connection slot nor buffers forever.
    absl::Duration write_timeout = absl::Seconds(30);
    // The wait for the next request after an error answer on a connection
    // that has not yet sent a validly signed request: such a connection
    // holds a slot of max_connections, so it gets seconds, not idle_timeout.
    absl::Duration untrusted_idle_timeout = absl::Seconds(2);
  };

  // Everything referenced must outlive the session's io_context.
  HttpSession(boost::asio::ip::tcp::socket socket,
              boost::asio::ssl::context& tls, const Options& options,
              const WebhookHandler& handler, IngressMetrics& metrics,
              const Clock& clock, ConnectionSlot slot);

  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Starts the handshake on the session's event loop.
  void Start();

 private:
  using ErrorCode = boost::system::error_code;
  using Parser =
      boost::beast::http::request_parser<boost::beast::http::string_body>;

  enum class Phase {
    kHandshake,
    kWaitForRequest,
    kReadHeader,
    kReadBody,
    kAwaitDurable,  // the appender keeps the event; its completion answers
    kWrite,
    kLinger,
  };

  void DoHandshake();
  void OnHandshake(ErrorCode ec);

  void DoWaitForRequest();
  void OnFirstBytes(ErrorCode ec, size_t bytes);
  void DoReadHeader();
  void OnReadHeader(ErrorCode ec, size_t bytes);
  void DoContinue();
  void OnContinueWritten(ErrorCode ec, size_t bytes);
  void DoReadBody();
  void OnReadBody(ErrorCode ec, size_t bytes);

  // Answers a read error (timeout, limits, framing) or ends silently.
  void OnReadError(ErrorCode ec);
  void Respond(WebhookResponse response);
  void OnWrite(bool close, ErrorCode ec, size_t bytes);

  // Half-close, then read and discard until EOF, a byte cap or a deadline.
  void DoLingeringClose();
  void OnLinger(ErrorCode ec, size_t bytes);
  void CloseSocket();

  void ArmDeadline(Phase phase, absl::Duration timeout);
  void DisarmDeadline();
  void OnDeadline(uint64_t generation, ErrorCode ec);

  // Starts the per-request state: id, start time, head fields.
  void BeginRequest();
  // The 429 (+ Retry-After) when the peer is over its request rate.
  std::optional<WebhookResponse> RateLimit() const;

  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::steady_timer deadline_;
  const Options& options_;
  const WebhookHandler& handler_;
  IngressMetrics& metrics_;
  const Clock& clock_;
  ConnectionSlot slot_;

  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  // The one response being written; never two at once.
  std::optional<boost::beast::http::response<boost::beast::http::string_body>>
      response_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>>
      continue_;
  std::array<char, 16 << 10> linger_buffer_{};
  size_t lingered_bytes_ = 0;

  Phase phase_ = Phase::kHandshake;
  uint64_t deadline_generation_ = 0;
  bool deadline_expired_ = false;
  size_t requests_served_ = 0;
  // Set by the first answer to a request whose signature was valid (or
  // accepted unsigned): only then does the connection get idle_timeout.
  bool trusted_ = false;
  bool client_keep_alive_ = false;

  WebhookRequest request_;
  // A refusal decided from the head, sent once the body has been drained.
  std::optional<WebhookResponse> early_response_;
  absl::Time request_start_;
};

}  // namespace hookstream::ingress
