// -----------------------------------------------------------------------------
// File: ingress_server.h
// -----------------------------------------------------------------------------
// IngressServer: the HTTPS webhook endpoint, what the composition root
// (server/server.cc) starts. It owns a small fixed pool of I/O threads, the
// TLS context, the listener and every connection; requests go to the
// WebhookHandler, which hands accepted events to the caller's EventAppender
// (the configured storage backend) and answers once they are durable.
//
// Example:
//   SourceRegistry sources;
//   ASSIGN_OR_RETURN(WebhookSource gettrx, MakeGettrxSource({...}));
//   RETURN_IF_ERROR(sources.Add(std::move(gettrx)));
//   ASSIGN_OR_RETURN(std::unique_ptr<IngressServer> ingress,
//                    IngressServer::Start({.port = 8443,
//                                          .cert_file = "server.crt",
//                                          .key_file = "server.key"},
//                                         std::move(sources), appender,
//                                         clock));
//   ...
//   ingress->StartDraining();  // new requests get 503 + Retry-After
//   ingress->Stop();           // closes everything, joins the threads
//
// Shutdown order: StartDraining, give in-flight requests a moment, Stop.
// Stop drops connections without answering what is still being read; an
// event is only ever acknowledged after the appender reported it durable.
// Stop the backend's writes (so that every pending completion has run) only
// after StartDraining and before Stop.
//
// Thread-safety: port(), StartDraining(), Stop() and metrics() may be called
// from any thread. `appender` and `clock` must outlive the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/store/event_appender.h"
#include "server/ingress/ingress_metrics.h"
#include "server/ingress/source_registry.h"
#include "server/ingress/webhook_handler.h"

namespace hookstream::ingress {

struct IngressOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8443;  // 0 = ephemeral; read it back with port()
  std::string cert_file;
  std::string key_file;
  size_t max_body_bytes = size_t{1} << 20;
  // WebhookHandler::Options::max_event_bytes.
  size_t max_event_bytes = kDefaultMaxEventBytes;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_connections = 10000;
  // Per source IP (PeerLimits); 0 = only the total cap.
  size_t max_connections_per_peer = 256;
  // Comma-separated CIDRs allowed to connect; empty = anyone.
  std::string allow_cidrs;
  // Requests per second per source IP (429 + Retry-After beyond); 0 = off.
  double peer_rate_per_second = 0;
  double peer_rate_burst = 50;
  size_t max_event_id_bytes = 256;
  absl::Duration untrusted_idle_timeout = absl::Seconds(2);
  absl::Duration idle_timeout = absl::Seconds(60);
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration body_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  int io_threads = 2;
};

// INVALID_ARGUMENT naming the first field out of range.
absl::Status ValidateIngressOptions(const IngressOptions& options);

class IngressServer {
 public:
  // Validates, loads TLS, binds, and starts serving. Errors are one line:
  // bad options, unreadable certificate or key, address in use, no source.
  static absl::StatusOr<std::unique_ptr<IngressServer>> Start(
      IngressOptions options, SourceRegistry sources, EventAppender& appender,
      const Clock& clock);

  ~IngressServer();
  IngressServer(const IngressServer&) = delete;
  IngressServer& operator=(const IngressServer&) = delete;

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const;

  // Every new request is answered 503 + Retry-After and its connection
  // closed. Idempotent.
  void StartDraining();

  // Closes the listener and every connection, joins the I/O threads.
  // Idempotent; the destructor calls it.
  void Stop();

  const IngressMetrics& metrics() const;

  // Re-reads the certificate and key files: new TLS handshakes use them,
  // connections already open keep theirs. On error (unreadable, not a
  // matching pair) the old ones stay and the status says why.
  absl::Status ReloadTls();

 private:
  struct Impl;
  explicit IngressServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace hookstream::ingress
