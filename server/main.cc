// hookstream-server: flags → ServerConfig → Server → wait for SIGINT or
// SIGTERM (or a fatal failure of a part) → Shutdown. SIGHUP reloads what can
// be reloaded (server/reload.h) without dropping a connection.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/build_info.h"
#include "common/base/clock.h"
#include "common/base/flag_help.h"
#include "common/base/flag_sources.h"
#include "common/base/log.h"
#include "server/accept_guard.h"
#include "server/server.h"
#include "server/server_config.h"

namespace {
const hookstream::ServerConfig kDefaults;
}  // namespace

ABSL_FLAG(std::string, ingress_address, kDefaults.ingress.address,
          "HTTPS webhook ingress listen address (host:port; port 0 = any)");
ABSL_FLAG(std::string, grpc_address, kDefaults.grpc.address,
          "gRPC listen address (host:port; port 0 = any)");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:9090",
          "admin listener (HTTP on loopback, else HTTPS + token): /metrics, "
          "/healthz, /readyz and the "
          "dashboard at / (host:port; port 0 = any; empty = none)");
ABSL_FLAG(std::string, admin_tls_cert, "",
          "PEM certificate for the admin listener (HTTPS; required with "
          "--admin_token_file off loopback)");
ABSL_FLAG(std::string, admin_tls_key, "",
          "PEM private key for the admin listener");
ABSL_FLAG(std::string, admin_token_file, "",
          "file with the bearer token the admin listener asks for on every "
          "route but /healthz and /readyz (needs --admin_tls_cert)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain for the ingress");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for the ingress");
ABSL_FLAG(std::string, grpc_tls_cert, "",
          "PEM certificate for gRPC (without it gRPC is plaintext, which is "
          "only allowed on loopback)");
ABSL_FLAG(std::string, grpc_tls_key, "", "PEM private key for gRPC");
ABSL_FLAG(std::string, grpc_client_ca, "",
          "PEM CA: gRPC peers must present a client certificate it signed "
          "(mutual TLS; needs --grpc_tls_cert)");
ABSL_FLAG(std::string, grpc_access_file, "",
          "JSON identities (bearer token hashes, client certificate subjects) "
          "and the types and accounts each may read; see docs/security.md. "
          "Needs --grpc_tls_cert. Without it and --grpc_client_ca, gRPC "
          "serves unauthenticated, which only loopback allows");
ABSL_FLAG(size_t, grpc_max_streams, kDefaults.grpc.max_streams,
          "most live Subscribe streams in total (more: RESOURCE_EXHAUSTED)");
ABSL_FLAG(size_t, grpc_max_connections, kDefaults.grpc.max_connections,
          "most gRPC connections open at once (more are reset at accept; "
          "0 = no cap)");
ABSL_FLAG(size_t, grpc_max_connections_per_peer,
          kDefaults.grpc.max_connections_per_peer,
          "most gRPC connections open at once from one address (more are "
          "reset at accept; 0 = only --grpc_max_connections)");
ABSL_FLAG(int, grpc_max_streams_per_connection,
          kDefaults.grpc.max_streams_per_connection,
          "most concurrent calls on one HTTP/2 connection");
ABSL_FLAG(int, grpc_max_request_bytes, kDefaults.grpc.max_request_bytes,
          "largest gRPC request message (larger: RESOURCE_EXHAUSTED)");
ABSL_FLAG(size_t, grpc_max_filter_types, kDefaults.grpc.max_filter_types,
          "most type patterns in one filter (more: INVALID_ARGUMENT)");
ABSL_FLAG(size_t, grpc_max_filter_accounts, kDefaults.grpc.max_filter_accounts,
          "most accounts in one filter (more: INVALID_ARGUMENT)");
ABSL_FLAG(size_t, grpc_max_filter_bytes, kDefaults.grpc.max_filter_bytes,
          "most bytes of patterns and accounts in one filter");
ABSL_FLAG(absl::Duration, grpc_handshake_timeout,
          kDefaults.grpc.handshake_timeout,
          "a gRPC connection that has not completed TLS and HTTP/2 by then is "
          "closed");
ABSL_FLAG(absl::Duration, grpc_max_connection_idle,
          kDefaults.grpc.max_connection_idle,
          "a gRPC connection without calls for this long is closed (GOAWAY)");
ABSL_FLAG(size_t, grpc_memory_quota_bytes, kDefaults.grpc.memory_quota_bytes,
          "memory gRPC may use for its buffers (gRPC ResourceQuota)");
ABSL_FLAG(std::string, signature_scheme, kDefaults.signing.scheme,
          "hmac-sha256 (x-webhook-signature over the raw body) or "
          "standard-webhooks");
ABSL_FLAG(std::string, signing_secret_file, "",
          "file with the signing secrets, one per line (rotation: several)");
ABSL_FLAG(std::string, signing_secret_env, kDefaults.signing.secret_env,
          "environment variable with comma-separated signing secrets, used "
          "when --signing_secret_file is not given");
ABSL_FLAG(bool, insecure_secret_file_mode, false,
          "accept a --signing_secret_file that group or others may access "
          "(development only)");
ABSL_FLAG(bool, insecure_accept_unsigned, false,
          "accept webhooks without verifying signatures (development only)");
ABSL_FLAG(size_t, ring_max_events, kDefaults.ring.max_events,
          "most events the ring holds");
ABSL_FLAG(size_t, ring_max_bytes, kDefaults.ring.max_bytes,
          "most serialized bytes the ring holds");
ABSL_FLAG(absl::Duration, dedup_window, kDefaults.ring.dedup_window,
          "how long an event id is remembered for deduplication");
ABSL_FLAG(size_t, dedup_max_ids, kDefaults.ring.dedup_max_ids,
          "most event ids remembered for deduplication (the ids of the "
          "events the ring holds are remembered even beyond it)");
ABSL_FLAG(size_t, dedup_max_bytes, kDefaults.ring.dedup_max_bytes,
          "most bytes of event ids remembered for deduplication (each id "
          "counts its length + 128; held events' ids even beyond it)");
ABSL_FLAG(std::string, backend, kDefaults.storage.backend,
          "where acknowledged events are kept: memory (this process only) "
          "journal (an fsynced log in --journal_dir) or jetstream (NATS "
          "JetStream at --nats_url, shared by several replicas)");
ABSL_FLAG(std::string, journal_dir, "",
          "directory of the journal (--backend=journal); created if missing");
ABSL_FLAG(std::string, journal_sync, kDefaults.storage.journal_sync,
          "fsync: answer 200 after an fdatasync that covers the event "
          "(survives power loss); none: after write(2) (survives a process "
          "crash only)");
ABSL_FLAG(bool, journal_repair, false,
          "start despite damaged journal records, dropping them and saying "
          "which (without it the server refuses to start and names them)");
ABSL_FLAG(size_t, journal_segment_bytes,
          kDefaults.storage.journal_segment_bytes,
          "size at which a journal segment is closed and a new one started");
ABSL_FLAG(std::string, nats_url, "",
          "NATS servers of --backend=jetstream, nats://HOST:PORT[,...]");
ABSL_FLAG(std::string, nats_stream, kDefaults.storage.nats_stream,
          "the JetStream stream (created when missing, checked when present)");
ABSL_FLAG(int, nats_replicas, kDefaults.storage.nats_replicas,
          "replicas of a stream hookstream creates (3 in production)");
ABSL_FLAG(absl::Duration, nats_max_age, kDefaults.storage.nats_max_age,
          "how long the stream keeps messages (0: --dedup_window; never "
          "shorter)");
ABSL_FLAG(int64_t, nats_max_msgs, kDefaults.storage.nats_max_msgs,
          "most messages the stream keeps (0: unlimited)");
ABSL_FLAG(int64_t, nats_max_bytes, kDefaults.storage.nats_max_bytes,
          "most bytes the stream keeps (0: unlimited)");
ABSL_FLAG(std::string, nats_creds, "", "NATS credentials file");
ABSL_FLAG(std::string, nats_tls_ca, "",
          "CA bundle: connect to NATS with TLS, verifying against it");
ABSL_FLAG(absl::Duration, nats_publish_timeout,
          kDefaults.storage.nats_publish_timeout,
          "how long a webhook's publish is retried before the 503");
ABSL_FLAG(absl::Duration, nats_stream_info_interval,
          kDefaults.storage.nats_stream_info_interval,
          "how often the JetStream stream's state is read for /metrics");
ABSL_FLAG(size_t, max_body_bytes, kDefaults.ingress.max_body_bytes,
          "largest accepted webhook body");
ABSL_FLAG(size_t, max_event_bytes, kDefaults.ingress.max_event_bytes,
          "largest converted event, raw body included (larger: 413 "
          "event_too_large); the default fits gRPC's default 4 MiB client "
          "limit");
ABSL_FLAG(size_t, max_header_bytes, kDefaults.ingress.max_header_bytes,
          "largest accepted request header block");
ABSL_FLAG(size_t, max_connections, kDefaults.ingress.max_connections,
          "most concurrent ingress connections");
ABSL_FLAG(size_t, max_connections_per_peer,
          kDefaults.ingress.max_connections_per_peer,
          "most concurrent ingress connections from one source IP (0 = only "
          "--max_connections)");
ABSL_FLAG(std::string, ingress_allow_cidrs, "",
          "comma-separated CIDR ranges allowed to connect to the ingress, "
          "e.g. 10.0.0.0/8,2001:db8::/32 (empty = anyone)");
ABSL_FLAG(double, ingress_peer_rate, kDefaults.ingress.peer_rate,
          "webhook requests per second per source IP; beyond it 429 + "
          "Retry-After (0 = no limit)");
ABSL_FLAG(double, ingress_peer_burst, kDefaults.ingress.peer_burst,
          "requests one source IP may send at once under --ingress_peer_rate");
ABSL_FLAG(size_t, max_event_id_bytes, kDefaults.ingress.max_event_id_bytes,
          "longest accepted event id (422 id_too_long beyond)");
ABSL_FLAG(absl::Duration, untrusted_idle_timeout,
          kDefaults.ingress.untrusted_idle_timeout,
          "how long a connection that has sent no validly signed request is "
          "kept after an error answer");
ABSL_FLAG(absl::Duration, idle_timeout, kDefaults.ingress.idle_timeout,
          "keep-alive idle timeout");
ABSL_FLAG(absl::Duration, header_timeout, kDefaults.ingress.header_timeout,
          "time allowed to send a request's headers");
ABSL_FLAG(absl::Duration, body_timeout, kDefaults.ingress.body_timeout,
          "time allowed to send a request's body");
ABSL_FLAG(absl::Duration, write_timeout, kDefaults.ingress.write_timeout,
          "time allowed to write one answer; a client that stops reading is "
          "closed after it");
ABSL_FLAG(int, io_threads, kDefaults.ingress.io_threads, "ingress I/O threads");
ABSL_FLAG(int, grpc_stream_threads, kDefaults.grpc.stream_threads,
          "threads shared by all Subscribe streams (reads, writes, "
          "heartbeats)");
ABSL_FLAG(absl::Duration, drain_delay, kDefaults.drain_delay,
          "on SIGTERM, how long /readyz and gRPC health say draining (new "
          "webhooks get 503 + Retry-After) before streams end, so load "
          "balancers stop sending first");
ABSL_FLAG(absl::Duration, drain_timeout, kDefaults.grpc.shutdown_grace,
          "on SIGTERM, how long subscribers get to take their last heartbeat "
          "and calls to finish before they are cancelled");
ABSL_FLAG(std::string, ready_file, "",
          "write {\"ingress_port\":N,\"grpc_port\":M,\"admin_port\":A,...} "
          "here once serving");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(std::string, log_format, "logfmt",
          "logfmt (key=value) or json (one object per line)");
ABSL_FLAG(std::string, config, "",
          "file of settings, one --name=value per line (# comments); also "
          "$HOOKSTREAM_CONFIG. Precedence: flag > $HOOKSTREAM_<FLAG> > this "
          "file > default");

namespace hookstream {
namespace {

ServerConfig ConfigFromFlags() {
  ServerConfig c;
  c.ingress.address = absl::GetFlag(FLAGS_ingress_address);
  c.grpc.address = absl::GetFlag(FLAGS_grpc_address);
  c.admin.address = absl::GetFlag(FLAGS_admin_address);
  c.admin.tls.cert_file = absl::GetFlag(FLAGS_admin_tls_cert);
  c.admin.tls.key_file = absl::GetFlag(FLAGS_admin_tls_key);
  c.admin.token_file = absl::GetFlag(FLAGS_admin_token_file);
  c.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  c.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  c.grpc.tls.cert_file = absl::GetFlag(FLAGS_grpc_tls_cert);
  c.grpc.tls.key_file = absl::GetFlag(FLAGS_grpc_tls_key);
  c.grpc.client_ca_file = absl::GetFlag(FLAGS_grpc_client_ca);
  c.grpc.access_file = absl::GetFlag(FLAGS_grpc_access_file);
  c.grpc.max_streams = absl::GetFlag(FLAGS_grpc_max_streams);
  c.grpc.max_connections = absl::GetFlag(FLAGS_grpc_max_connections);
  c.grpc.max_connections_per_peer =
      absl::GetFlag(FLAGS_grpc_max_connections_per_peer);
  c.grpc.max_streams_per_connection =
      absl::GetFlag(FLAGS_grpc_max_streams_per_connection);
  c.grpc.max_request_bytes = absl::GetFlag(FLAGS_grpc_max_request_bytes);
  c.grpc.max_filter_types = absl::GetFlag(FLAGS_grpc_max_filter_types);
  c.grpc.max_filter_accounts = absl::GetFlag(FLAGS_grpc_max_filter_accounts);
  c.grpc.max_filter_bytes = absl::GetFlag(FLAGS_grpc_max_filter_bytes);
  c.grpc.handshake_timeout = absl::GetFlag(FLAGS_grpc_handshake_timeout);
  c.grpc.max_connection_idle = absl::GetFlag(FLAGS_grpc_max_connection_idle);
  c.grpc.memory_quota_bytes = absl::GetFlag(FLAGS_grpc_memory_quota_bytes);
  c.signing.insecure_file_mode = absl::GetFlag(FLAGS_insecure_secret_file_mode);
  c.signing.scheme = absl::GetFlag(FLAGS_signature_scheme);
  c.signing.secret_file = absl::GetFlag(FLAGS_signing_secret_file);
  c.signing.secret_env = absl::GetFlag(FLAGS_signing_secret_env);
  c.signing.allow_unsigned = absl::GetFlag(FLAGS_insecure_accept_unsigned);
  c.ring.max_events = absl::GetFlag(FLAGS_ring_max_events);
  c.ring.max_bytes = absl::GetFlag(FLAGS_ring_max_bytes);
  c.ring.dedup_window = absl::GetFlag(FLAGS_dedup_window);
  c.ring.dedup_max_ids = absl::GetFlag(FLAGS_dedup_max_ids);
  c.ring.dedup_max_bytes = absl::GetFlag(FLAGS_dedup_max_bytes);
  c.storage.backend = absl::GetFlag(FLAGS_backend);
  c.storage.journal_dir = absl::GetFlag(FLAGS_journal_dir);
  c.storage.journal_sync = absl::GetFlag(FLAGS_journal_sync);
  c.storage.journal_repair = absl::GetFlag(FLAGS_journal_repair);
  c.storage.journal_segment_bytes = absl::GetFlag(FLAGS_journal_segment_bytes);
  c.storage.nats_url = absl::GetFlag(FLAGS_nats_url);
  c.storage.nats_stream = absl::GetFlag(FLAGS_nats_stream);
  c.storage.nats_replicas = absl::GetFlag(FLAGS_nats_replicas);
  c.storage.nats_max_age = absl::GetFlag(FLAGS_nats_max_age);
  c.storage.nats_max_msgs = absl::GetFlag(FLAGS_nats_max_msgs);
  c.storage.nats_max_bytes = absl::GetFlag(FLAGS_nats_max_bytes);
  c.storage.nats_creds = absl::GetFlag(FLAGS_nats_creds);
  c.storage.nats_tls_ca = absl::GetFlag(FLAGS_nats_tls_ca);
  c.storage.nats_publish_timeout = absl::GetFlag(FLAGS_nats_publish_timeout);
  c.storage.nats_stream_info_interval =
      absl::GetFlag(FLAGS_nats_stream_info_interval);
  c.ingress.max_body_bytes = absl::GetFlag(FLAGS_max_body_bytes);
  c.ingress.max_header_bytes = absl::GetFlag(FLAGS_max_header_bytes);
  c.ingress.max_event_bytes = absl::GetFlag(FLAGS_max_event_bytes);
  c.ingress.max_connections = absl::GetFlag(FLAGS_max_connections);
  c.ingress.max_connections_per_peer =
      absl::GetFlag(FLAGS_max_connections_per_peer);
  c.ingress.allow_cidrs = absl::GetFlag(FLAGS_ingress_allow_cidrs);
  c.ingress.peer_rate = absl::GetFlag(FLAGS_ingress_peer_rate);
  c.ingress.peer_burst = absl::GetFlag(FLAGS_ingress_peer_burst);
  c.ingress.max_event_id_bytes = absl::GetFlag(FLAGS_max_event_id_bytes);
  c.ingress.untrusted_idle_timeout =
      absl::GetFlag(FLAGS_untrusted_idle_timeout);
  c.ingress.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  c.ingress.header_timeout = absl::GetFlag(FLAGS_header_timeout);
  c.ingress.body_timeout = absl::GetFlag(FLAGS_body_timeout);
  c.ingress.write_timeout = absl::GetFlag(FLAGS_write_timeout);
  c.ingress.io_threads = absl::GetFlag(FLAGS_io_threads);
  c.grpc.stream_threads = absl::GetFlag(FLAGS_grpc_stream_threads);
  c.ready_file = absl::GetFlag(FLAGS_ready_file);
  c.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  c.grpc.shutdown_grace = absl::GetFlag(FLAGS_drain_timeout);
  return c;
}

bool SetLogLevel(const std::string& name) {
  if (name == "debug") {
    SetMinLogLevel(LogLevel::kDebug);
  } else if (name == "info") {
    SetMinLogLevel(LogLevel::kInfo);
  } else if (name == "warning") {
    SetMinLogLevel(LogLevel::kWarning);
  } else if (name == "error") {
    SetMinLogLevel(LogLevel::kError);
  } else {
    return false;
  }
  return true;
}

// Written to a temporary name and renamed, so a reader never sees half a file.
bool WriteReadyFile(const std::string& path, const Server& server) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"ingress_port\":" << server.ingress_port()
        << ",\"grpc_port\":" << server.grpc_port()
        << ",\"admin_port\":" << server.admin_port() << ",\"stream_epoch\":\""
        << server.stream_epoch() << "\",\"pid\":" << getpid() << "}\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

constexpr char kUsage[] =
    "hookstream-server: GETTRX One webhooks in over HTTPS, a resumable "
    "gRPC event stream out.";

std::string VersionLine() {
  return absl::StrCat("hookstream-server ", kVersion, " (commit ", kCommit,
                      ", ", kBuildType, kAssertions ? ", assertions on" : "",
                      ")");
}

bool AsksForVersion(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg == "--version" || arg == "-version") return true;
  }
  return false;
}

int Run(int argc, char** argv) {
  if (AsksForHelp(argc, argv)) {
    std::cout << kUsage << "\n\nUsage: hookstream-server [flags]\n\n"
              << "Every flag can also be set as $HOOKSTREAM_<FLAG> (e.g. "
                 "HOOKSTREAM_RING_MAX_EVENTS=5000) or as a --name=value line "
                 "of the --config file; a flag wins over the environment, "
                 "which wins over the file.\n\nFlags:\n"
              << FormatFlags(FlagsDefinedIn("server/main.cc"));
    return 0;
  }
  if (AsksForVersion(argc, argv)) {
    std::cout << VersionLine() << "\n";
    return 0;
  }
  absl::SetProgramUsageMessage(kUsage);
  // Debian's Abseil runs absl::Mutex with deadlock detection (a lock graph
  // updated on every acquisition, in gRPC's mutexes too): ~19% of server CPU
  // with 10,000 streams. Our lock order is fixed by design and covered by
  // the TSan tests, so production runs without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (absl::Status s = ApplyFlagSources(argc, argv, environ,
                                        FlagsDefinedIn("server/main.cc"));
      !s.ok()) {
    std::cerr << "hookstream-server: " << s.message() << "\n";
    return 2;
  }
  // Abseil stays the parser of record (checked above, so it cannot fail).
  absl::ParseCommandLine(argc, argv);
  if (const std::string format = absl::GetFlag(FLAGS_log_format);
      format == "json" || format == "logfmt") {
    SetLogFormat(format == "json" ? LogFormat::kJson : LogFormat::kLogfmt);
  } else {
    std::cerr << "hookstream-server: --log_format: want logfmt or json\n";
    return 2;
  }
  if (!SetLogLevel(absl::GetFlag(FLAGS_log_level))) {
    std::cerr << "hookstream-server: --log_level: want debug, info, warning "
                 "or error\n";
    return 2;
  }

  // Block the signals in every thread the server will start, so that only
  // sigwait below receives them. SIGUSR2 is how a part's fatal failure wakes
  // this thread (kill(getpid()) is delivered to the process, i.e. here).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer that closes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  const ServerConfig config = ConfigFromFlags();
  if (absl::Status s = config.Validate(); !s.ok()) {
    std::cerr << "hookstream-server: " << s.message() << "\n";
    return 2;
  }
  // Before gRPC listens: the reserve must be opened while descriptors are
  // free (accept_guard.h).
  if (!ArmAcceptGuard(
          {.max_connections = config.grpc.max_connections,
           .max_connections_per_peer = config.grpc.max_connections_per_peer})) {
    std::cerr << "hookstream-server: cannot open /dev/null for the accept "
                 "guard's reserve descriptor\n";
    return 1;
  }
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(config, RealClock(), [] { kill(getpid(), SIGUSR2); });
  if (!server.ok()) {
    std::cerr << "hookstream-server: " << server.status().message() << "\n";
    return 1;
  }
  if (!config.ready_file.empty() &&
      !WriteReadyFile(config.ready_file, **server)) {
    std::cerr << "hookstream-server: cannot write --ready_file "
              << config.ready_file << "\n";
    (*server)->Shutdown();
    return 1;
  }
  // SIGHUP also re-reads --log_level from its sources, as at start (the
  // config file may have changed; the command line still wins). Every
  // setting is read again, so a file that no longer parses is refused, but
  // only the level is taken: the rest needs a restart.
  (*server)->reload().Add("log_level", [argc, argv]() -> absl::Status {
    std::string level;
    absl::Status s;
    {
      absl::FlagSaver saver;  // puts every flag back when the scope ends
      // A level no longer named anywhere is the default again.
      absl::SetFlag(&FLAGS_log_level,
                    absl::FindCommandLineFlag("log_level")->DefaultValue());
      s = ApplyFlagSources(argc, argv, environ,
                           FlagsDefinedIn("server/main.cc"));
      level = absl::GetFlag(FLAGS_log_level);
    }
    if (!s.ok()) return s;
    if (!SetLogLevel(level)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--log_level: want debug, info, warning or error, got \"", level,
          "\""));
    }
    absl::SetFlag(&FLAGS_log_level, level);
    return absl::OkStatus();
  });
  LogRecord(LogLevel::kInfo, "serving")
      .Add("ingress_port", (*server)->ingress_port())
      .Add("grpc_port", (*server)->grpc_port())
      .Add("admin_port", (*server)->admin_port())
      .Add("stream_epoch", (*server)->stream_epoch());

  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      // Each part logs its own failure; the old configuration stays.
      (void)(*server)->reload().ReloadAll();
      continue;
    }
    if (signal == SIGUSR2 && (*server)->fatal_status().ok()) continue;
    break;
  }
  const absl::Status fatal = (*server)->fatal_status();
  LogRecord(fatal.ok() ? LogLevel::kInfo : LogLevel::kError, "stopping")
      .Add("reason", fatal.ok() ? "signal" : std::string(fatal.message()));
  (*server)->Shutdown();
  LogRecord(LogLevel::kInfo, "stopped");
  return fatal.ok() ? 0 : 1;
}

}  // namespace
}  // namespace hookstream

int main(int argc, char** argv) { return hookstream::Run(argc, argv); }
