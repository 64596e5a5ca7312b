// -----------------------------------------------------------------------------
// File: server_config.h
// -----------------------------------------------------------------------------
// Everything hookstream-server can be told, as plain structs with in-class
// defaults. Only the composition root (server.cc) reads ServerConfig; it maps
// each part onto the small Options struct of the unit that needs it, so no
// unit depends on the whole configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hookstream {

struct ServerConfig {
  struct Tls {
    std::string cert_file;
    std::string key_file;
  };
  struct Ingress {
    // host:port; port 0 picks an ephemeral port (tests).
    std::string address = "127.0.0.1:8443";
    size_t max_body_bytes = size_t{1} << 20;
    // Largest converted event (its stored encoding); see
    // server/ingress/webhook_handler.h. 4 MiB - 64 KiB.
    size_t max_event_bytes = (size_t{4} << 20) - (64 << 10);
    size_t max_header_bytes = size_t{16} << 10;
    size_t max_connections = 10000;
    // Per source IP; 0 = only max_connections.
    size_t max_connections_per_peer = 256;
    // Comma-separated CIDRs allowed to connect; empty = anyone.
    std::string allow_cidrs;
    // Requests/s per source IP (429 + Retry-After beyond); 0 = no limit.
    double peer_rate = 0;
    double peer_burst = 50;
    size_t max_event_id_bytes = 256;
    // After an error answer, before any validly signed request.
    absl::Duration untrusted_idle_timeout = absl::Seconds(2);
    absl::Duration idle_timeout = absl::Seconds(60);
    absl::Duration header_timeout = absl::Seconds(10);
    absl::Duration body_timeout = absl::Seconds(30);
    // Writing one answer; a client that stops reading is closed after it.
    absl::Duration write_timeout = absl::Seconds(30);
    int io_threads = 2;
  };
  struct Signing {
    // "hmac-sha256" (default) or "standard-webhooks".
    std::string scheme = "hmac-sha256";
    // Where secrets come from: a file, or an environment variable holding
    // them (never the command line, which `ps` shows).
    std::string secret_file;
    std::string secret_env = "HOOKSTREAM_SIGNING_SECRETS";
    bool allow_unsigned = false;
    // Accept a secret file readable or writable by group or others
    // (development only; otherwise such a file is refused).
    bool insecure_file_mode = false;
  };
  struct Ring {
    size_t max_events = 100'000;
    size_t max_bytes = size_t{256} << 20;
    absl::Duration dedup_window = absl::Hours(72);
    size_t dedup_max_ids = 1'000'000;
    // Bytes of remembered ids (each: its length + 128), so that long ids
    // cannot grow memory by dedup_max_ids times their length.
    size_t dedup_max_bytes = size_t{256} << 20;
  };
  // Where acknowledged events are kept (common/store/event_appender.h).
  struct Storage {
    // "memory" (this process only) or "journal" (an fsynced log in
    // journal_dir that survives kill -9, an OS crash and a power loss).
    std::string backend = "memory";
    std::string journal_dir;
    // "fsync": the 200 after an fdatasync covering the event; "none": after
    // write(2) (survives a process crash only).
    std::string journal_sync = "fsync";
    // Start despite damaged journal records, dropping them (and saying so).
    bool journal_repair = false;
    size_t journal_segment_bytes = size_t{64} << 20;
    // --backend=jetstream (docs/scale-out.md): NATS servers, comma-separated
    // nats://HOST:PORT; the stream (its duplicate window is --dedup_window).
    std::string nats_url;
    std::string nats_stream = "HOOKSTREAM";
    int nats_replicas = 1;
    // 0: as long as the dedup window (never shorter).
    absl::Duration nats_max_age = absl::ZeroDuration();
    // 0: unlimited.
    int64_t nats_max_msgs = 0;
    int64_t nats_max_bytes = 0;
    std::string nats_creds;
    std::string nats_tls_ca;
    // How long a publish is retried (same message id) before the 503.
    absl::Duration nats_publish_timeout = absl::Seconds(10);
    // How often the stream's state is read for /metrics (off request paths).
    absl::Duration nats_stream_info_interval = absl::Seconds(10);
  };
  struct Grpc {
    // host:port; port 0 picks an ephemeral port (tests).
    std::string address = "127.0.0.1:50051";
    // Without a certificate gRPC is plaintext, which is only accepted on a
    // loopback address.
    Tls tls;
    absl::Duration shutdown_grace = absl::Seconds(5);
    // Threads shared by all Subscribe streams (distribution_server.h).
    int stream_threads = 4;
    // Mutual TLS: peers must present a certificate this CA signed.
    std::string client_ca_file;
    // Identities and grants (server/auth/access_policy.h); reloadable.
    std::string access_file;
    // Limits (docs/security.md; DistributionOptions says what each does).
    size_t max_streams = 20'000;
    // Connections (accept_guard.h: gRPC 1.51 has no cap of its own); 0 =
    // none. The total also counts against RLIMIT_NOFILE (fd_limit.h).
    size_t max_connections = 4'096;
    size_t max_connections_per_peer = 256;
    int max_streams_per_connection = 1'000;
    int max_request_bytes = 64 << 10;
    size_t max_filter_types = 256;
    size_t max_filter_accounts = 1'000;
    size_t max_filter_bytes = size_t{32} << 10;
    absl::Duration handshake_timeout = absl::Seconds(10);
    absl::Duration max_connection_idle = absl::Minutes(10);
    size_t memory_quota_bytes = size_t{1} << 30;
    // Whether gRPC authenticates its callers.
    bool authenticates() const {
      return !client_ca_file.empty() || !access_file.empty();
    }
  };

  // The operator's plain-HTTP listener: /metrics, /healthz, /readyz, the
  // dashboard. Empty: none (the struct's default, for embedding and tests;
  // hookstream-server's --admin_address defaults to 127.0.0.1:9090).
  // Off loopback it needs TLS and a bearer token (the rule gRPC follows;
  // docs/security.md): every route but /healthz and /readyz then answers 401
  // without `Authorization: Bearer <the token in token_file>`.
  struct Admin {
    std::string address;
    Tls tls;
    // A file holding the bearer token (one line, >= 16 bytes); owner-only.
    std::string token_file;
  };

  Tls tls;
  Admin admin;
  Ingress ingress;
  Signing signing;
  Ring ring;
  Storage storage;
  Grpc grpc;
  // When set, written here as one line of JSON once serving:
  // `{"ingress_port":N,"grpc_port":M,"stream_epoch":"…","pid":P}` (how
  // tests and scripts find ephemeral ports, the epoch, and the process).
  std::string ready_file;
  // On SIGTERM, how long /readyz and gRPC health say "draining" (and new
  // webhooks get 503 + Retry-After) before the streams end and the
  // listeners close, so load balancers stop sending first.
  absl::Duration drain_delay = absl::ZeroDuration();

  // Checks what can be checked without touching files or sockets.
  absl::Status Validate() const;
};

}  // namespace hookstream
