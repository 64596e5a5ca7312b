#include "server/server_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace hookstream {
namespace {

absl::Status CheckAddress(absl::string_view name, absl::string_view address) {
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": want host:port, got \"", address, "\""));
  }
  return absl::OkStatus();
}

// IP literals only: a name (even "localhost", or "127.attacker.example")
// is resolved through DNS or /etc/hosts, which may point anywhere.
bool IsLoopback(absl::string_view address) {
  absl::string_view host = address.substr(0, address.rfind(':'));
  if (absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]")) {
    in6_addr v6;
    return inet_pton(AF_INET6, std::string(host).c_str(), &v6) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4;
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 &&
         (ntohl(v4.s_addr) >> 24) == 127;
}

}  // namespace

absl::Status ServerConfig::Validate() const {
  if (absl::Status s = CheckAddress("--ingress_address", ingress.address);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckAddress("--grpc_address", grpc.address); !s.ok()) {
    return s;
  }
  if (!admin.address.empty()) {
    if (absl::Status s = CheckAddress("--admin_address", admin.address);
        !s.ok()) {
      return s;
    }
  }
  if (admin.tls.cert_file.empty() != admin.tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--admin_tls_cert and --admin_tls_key go together");
  }
  if (!admin.token_file.empty() && admin.tls.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--admin_token_file needs --admin_tls_cert and --admin_tls_key (a "
        "token in clear text is no secret)");
  }
  if (!admin.address.empty() && !IsLoopback(admin.address) &&
      (admin.tls.cert_file.empty() || admin.token_file.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the admin listener on ", admin.address,
        " would show metrics, subscribers and events to anyone who reaches "
        "it: off loopback it needs --admin_tls_cert, --admin_tls_key and "
        "--admin_token_file; see docs/security.md"));
  }
  if (drain_delay < absl::ZeroDuration() ||
      grpc.shutdown_grace <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--drain_delay must not be negative, --drain_timeout must be "
        "positive");
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key are required (make run creates a "
        "development pair: scripts/dev-setup.sh)");
  }
  if (grpc.tls.cert_file.empty() != grpc.tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--grpc_tls_cert and --grpc_tls_key go together");
  }
  if (grpc.tls.cert_file.empty() && !IsLoopback(grpc.address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "plaintext gRPC is only served on a loopback IP address (127.0.0.0/8, "
        "[::1]); give --grpc_tls_cert and --grpc_tls_key to listen on ",
        grpc.address));
  }
  if (grpc.authenticates() && grpc.tls.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--grpc_access_file and --grpc_client_ca need --grpc_tls_cert and "
        "--grpc_tls_key (tokens and client certificates need TLS)");
  }
  if (!grpc.authenticates() && !IsLoopback(grpc.address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gRPC on ", grpc.address,
        " would let anyone who reaches it read every event: give "
        "--grpc_access_file (bearer tokens) and/or --grpc_client_ca (mutual "
        "TLS); see docs/security.md"));
  }
  if (grpc.max_streams == 0 || grpc.max_streams_per_connection < 1 ||
      grpc.max_request_bytes < 1024 || grpc.memory_quota_bytes < (1u << 20)) {
    return absl::InvalidArgumentError(
        "--grpc_max_streams and --grpc_max_streams_per_connection must be "
        "positive, --grpc_max_request_bytes at least 1024, "
        "--grpc_memory_quota_bytes at least 1 MiB");
  }
  if (grpc.handshake_timeout <= absl::ZeroDuration() ||
      grpc.max_connection_idle <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--grpc_handshake_timeout and --grpc_max_connection_idle must be "
        "positive");
  }
  if (signing.scheme != "hmac-sha256" &&
      signing.scheme != "standard-webhooks") {
    return absl::InvalidArgumentError(
        absl::StrCat("--signature_scheme: want hmac-sha256 or "
                     "standard-webhooks, got \"",
                     signing.scheme, "\""));
  }
  if (ring.max_events == 0 || ring.max_bytes == 0) {
    return absl::InvalidArgumentError(
        "--ring_max_events and --ring_max_bytes must be positive");
  }
  if (ingress.max_body_bytes == 0 || ingress.max_body_bytes > ring.max_bytes) {
    return absl::InvalidArgumentError(
        "--max_body_bytes must be positive and fit in --ring_max_bytes");
  }
  if (ingress.max_event_bytes < (size_t{64} << 10)) {
    return absl::InvalidArgumentError(
        "--max_event_bytes must be at least 64 KiB");
  }
  if (grpc.stream_threads < 1 || grpc.stream_threads > 256) {
    return absl::InvalidArgumentError(
        "--grpc_stream_threads must be between 1 and 256");
  }
  if (ingress.io_threads < 1) {
    return absl::InvalidArgumentError("--io_threads must be at least 1");
  }
  if (storage.backend != "jetstream" && !storage.nats_url.empty()) {
    return absl::InvalidArgumentError("--nats_url needs --backend=jetstream");
  }
  if (storage.backend == "journal") {
    if (storage.journal_dir.empty()) {
      return absl::InvalidArgumentError(
          "--backend=journal needs --journal_dir (where the journal lives)");
    }
    if (storage.journal_sync != "fsync" && storage.journal_sync != "none") {
      return absl::InvalidArgumentError(
          absl::StrCat("--journal_sync: want fsync or none, got \"",
                       storage.journal_sync, "\""));
    }
    if (storage.journal_segment_bytes < (size_t{64} << 10)) {
      return absl::InvalidArgumentError(
          "--journal_segment_bytes must be at least 64 KiB");
    }
  } else if (storage.backend == "jetstream") {
    if (storage.nats_url.empty()) {
      return absl::InvalidArgumentError(
          "--backend=jetstream needs --nats_url (nats://HOST:PORT[,...])");
    }
    if (storage.nats_replicas < 1 || storage.nats_replicas > 5) {
      return absl::InvalidArgumentError(
          "--nats_replicas must be between 1 and 5");
    }
    if (storage.nats_stream.empty() ||
        storage.nats_stream.find_first_of(" .*>/\\") != std::string::npos) {
      return absl::InvalidArgumentError(
          "--nats_stream: a stream name without spaces, '.', '*', '>', "
          "slashes");
    }
    if (storage.nats_max_age != absl::ZeroDuration() &&
        storage.nats_max_age < ring.dedup_window) {
      return absl::InvalidArgumentError(
          "--nats_max_age must be 0 or at least --dedup_window: JetStream "
          "rebuilds its duplicate map from the messages it keeps");
    }
    if (storage.nats_publish_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          "--nats_publish_timeout must be positive");
    }
    if (storage.nats_stream_info_interval < absl::Milliseconds(100)) {
      return absl::InvalidArgumentError(
          "--nats_stream_info_interval must be at least 100ms");
    }
  } else if (storage.backend == "memory") {
    if (!storage.journal_dir.empty() || storage.journal_repair) {
      return absl::InvalidArgumentError(
          "--journal_dir and --journal_repair need --backend=journal");
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--backend: want memory, journal or jetstream, got \"",
                     storage.backend, "\""));
  }
  return absl::OkStatus();
}

}  // namespace hookstream
