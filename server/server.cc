#include "server/server.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/config/secrets.h"
#include "server/admin/admin_server.h"
#include "server/auth/access_control.h"
#include "server/dashboard_routes.h"
#include "server/distribution/distribution_server.h"
#include "server/distribution/grpc_tls.h"
#include "server/fd_limit.h"
#include "server/ingress/ingress_server.h"
#include "server/ingress/source_registry.h"
#include "server/ingress/tls_context.h"
#include "server/reload.h"
#include "server/server_metrics.h"
#include "server/storage.h"
#include "server/swappable_verifier.h"

namespace hookstream {
namespace {

absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(
    absl::string_view address) {
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("want host:port, got \"", address, "\""));
  }
  std::string host(address.substr(0, colon));
  // Beast wants a bare IPv6 literal.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(std::move(host), static_cast<uint16_t>(port));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::vector<Secret>> LoadSecrets(
    const ServerConfig::Signing& signing) {
  if (!signing.secret_file.empty()) {
    return LoadSecretsFromFile(
        signing.secret_file, {.allow_shared_mode = signing.insecure_file_mode});
  }
  absl::StatusOr<std::vector<Secret>> secrets =
      LoadSecretsFromEnv(signing.secret_env);
  // No secret at all is allowed only with --insecure_accept_unsigned, which
  // MakeGettrxSource enforces with its own one-line reason.
  if (!secrets.ok() && absl::IsNotFound(secrets.status()) &&
      signing.allow_unsigned) {
    return std::vector<Secret>{};
  }
  if (!secrets.ok() && absl::IsNotFound(secrets.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("no signing secret: give --signing_secret_file or set $",
                     signing.secret_env,
                     " (or --insecure_accept_unsigned for development only)"));
  }
  return secrets;
}

// Null when gRPC is plaintext (loopback). SIGHUP reloads it (grpc_tls.h);
// the pair is checked with the same OpenSSL code as the ingress's.
absl::StatusOr<std::unique_ptr<distribution::GrpcTls>> GrpcTlsFromConfig(
    const ServerConfig::Grpc& grpc) {
  if (grpc.tls.cert_file.empty()) return nullptr;  // loopback, plaintext
  return distribution::GrpcTls::Create(
      {.cert_file = grpc.tls.cert_file,
       .key_file = grpc.tls.key_file,
       .client_ca_file = grpc.client_ca_file},
      [](const distribution::GrpcTls::Files& files) -> absl::Status {
        absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> checked =
            ingress::MakeServerTlsContext(
                {.cert_file = files.cert_file, .key_file = files.key_file});
        if (!checked.ok()) return checked.status();
        if (!files.client_ca_file.empty()) {
          ASSIGN_OR_RETURN(std::string ca, ReadWholeFile(files.client_ca_file));
          if (ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
            return absl::InvalidArgumentError(absl::StrCat(
                files.client_ca_file, ": no PEM certificate in it"));
          }
        }
        return absl::OkStatus();
      });
}

// Null when gRPC does not authenticate (loopback development).
absl::StatusOr<std::unique_ptr<auth::AccessControl>> GrpcAccessControl(
    const ServerConfig::Grpc& grpc) {
  if (!grpc.authenticates()) {
    LogRecord(LogLevel::kWarning,
              "grpc serves without authentication: anyone on this host can "
              "read every event (loopback development only; see "
              "docs/security.md)")
        .Add("address", grpc.address);
    return nullptr;
  }
  return auth::AccessControl::Create(
      {.access_file = grpc.access_file,
       .any_client_cert = !grpc.client_ca_file.empty()});
}

// The admin bearer token: the file's first line, at least 16 bytes, in a
// file only its owner may read (like the signing secrets).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " may be read by group or others: chmod 600 it"));
  }
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  const std::string token(absl::StripAsciiWhitespace(
      absl::string_view(text).substr(0, text.find('\n'))));
  if (token.size() < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the token must be at least 16 bytes"));
  }
  return token;
}

// The admin listener's TLS context (null: plain HTTP) and token (empty:
// none), read and checked completely, for Start and for SIGHUP.
absl::StatusOr<
    std::pair<std::shared_ptr<boost::asio::ssl::context>, std::string>>
AdminCredentials(const ServerConfig::Admin& config) {
  std::pair<std::shared_ptr<boost::asio::ssl::context>, std::string> out;
  if (!config.tls.cert_file.empty()) {
    ASSIGN_OR_RETURN(out.first, ingress::MakeServerTlsContext(
                                    {.cert_file = config.tls.cert_file,
                                     .key_file = config.tls.key_file}));
  }
  if (!config.token_file.empty()) {
    ASSIGN_OR_RETURN(out.second, ReadTokenFile(config.token_file));
  }
  return out;
}

absl::Status Prefixed(absl::string_view part, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(part, ": ", status.message()));
}

// A failure no part may recover from by itself: recorded once, reported to
// the caller (who shuts down and exits non-zero).
class FatalState {
 public:
  explicit FatalState(absl::AnyInvocable<void()> on_fatal)
      : on_fatal_(std::move(on_fatal)) {}

  void Report(absl::Status status) {
    absl::AnyInvocable<void()> notify;
    absl::AnyInvocable<void()> health;
    {
      absl::MutexLock lock(&mu_);
      if (!status_.ok()) return;  // the first failure is the one reported
      status_ = std::move(status);
      notify = std::move(on_fatal_);
      health = std::move(on_fatal_health_);
    }
    LogRecord(LogLevel::kError, "fatal").Add("error", status_message());
    if (health) health();
    if (notify) notify();
  }

  // Turns gRPC health NOT_SERVING on a fatal failure (at once if one
  // already happened).
  void SetHealthHook(absl::AnyInvocable<void()> hook) {
    {
      absl::MutexLock lock(&mu_);
      if (status_.ok()) {
        on_fatal_health_ = std::move(hook);
        return;
      }
    }
    hook();
  }

  absl::Status status() const {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  std::string status_message() const { return std::string(status().message()); }

  mutable absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  absl::AnyInvocable<void()> on_fatal_ ABSL_GUARDED_BY(mu_);
  absl::AnyInvocable<void()> on_fatal_health_ ABSL_GUARDED_BY(mu_);
};

class ServerImpl final : public Server {
 public:
  ServerImpl(std::unique_ptr<FatalState> fatal,
             std::unique_ptr<auth::AccessControl> access,
             std::unique_ptr<Storage> storage,
             std::unique_ptr<ingress::IngressServer> ingress,
             std::unique_ptr<distribution::GrpcTls> grpc_tls,
             std::unique_ptr<distribution::DistributionServer> distribution,
             absl::Duration grace, absl::Duration drain_delay)
      : fatal_(std::move(fatal)),
        access_(std::move(access)),
        storage_(std::move(storage)),
        ingress_(std::move(ingress)),
        grpc_tls_(std::move(grpc_tls)),
        distribution_(std::move(distribution)),
        grace_(grace),
        drain_delay_(drain_delay) {}

  ~ServerImpl() override { Shutdown(); }

  // The admin listener (when configured) and readiness; its routes read the
  // parts, so it starts once they all run.
  // `grpc_authenticates`: the event routes then need the admin token.
  absl::Status StartAdmin(const ServerConfig::Admin& config,
                          bool grpc_authenticates, const Clock& clock) {
    start_time_ = clock.Now();
    if (!config.address.empty()) {
      ASSIGN_OR_RETURN(auto address, SplitHostPort(config.address));
      admin::AdminServer::Routes routes;
      routes["/healthz"] = [](absl::string_view) {
        return admin::AdminResponse{.body = "ok\n"};
      };
      routes["/readyz"] = [this](absl::string_view) {
        const absl::Status ready = Readiness();
        return admin::AdminResponse{
            .status = ready.ok() ? 200u : 503u,
            .body =
                ready.ok() ? "ready\n" : absl::StrCat(ready.message(), "\n")};
      };
      routes["/metrics"] = [this, &clock](absl::string_view) {
        return admin::AdminResponse{
            .content_type = "text/plain; version=0.0.4; charset=utf-8",
            .body = RenderMetrics({.ingress = ingress_->metrics(),
                                   .reader = storage_->reader(),
                                   .distribution = *distribution_,
                                   .journal = storage_->journal(),
                                   .jetstream = storage_->jetstream(),
                                   .reload = &reload_,
                                   .ready = Readiness().ok(),
                                   .start_time = start_time_,
                                   .now = clock.Now()})};
      };
      admin::AdminOptions options;
      options.address = address.first;
      options.port = address.second;
      ASSIGN_OR_RETURN(auto credentials, AdminCredentials(config));
      options.tls = std::move(credentials.first);
      options.token = std::move(credentials.second);
      AddDashboardRoutes(storage_->reader(), *distribution_, clock,
                         !grpc_authenticates || !config.token_file.empty(),
                         routes);
      absl::StatusOr<std::unique_ptr<admin::AdminServer>> admin =
          admin::AdminServer::Start(std::move(options), std::move(routes));
      if (!admin.ok()) return admin.status();
      admin_ = *std::move(admin);
      if (!config.tls.cert_file.empty()) {
        reload_.Add("admin_tls", [this, config]() -> absl::Status {
          ASSIGN_OR_RETURN(auto next, AdminCredentials(config));
          return admin_->Reload(std::move(next.first), std::move(next.second));
        });
      }
    }
    serving_.store(true);
    return absl::OkStatus();
  }

  // What /readyz and the gRPC health service say: OK while every listener
  // is up, the backend has not failed and the server is not draining.
  absl::Status Readiness() const {
    if (draining_.load()) return absl::UnavailableError("draining");
    if (const absl::Status fatal = fatal_->status(); !fatal.ok()) {
      return absl::UnavailableError(
          absl::StrCat("backend failed: ", fatal.message()));
    }
    if (!serving_.load()) return absl::UnavailableError("starting");
    return absl::OkStatus();
  }

  // A part failed for good: gRPC health turns NOT_SERVING with /readyz.
  void WatchFatal() {
    fatal_->SetHealthHook([this] { distribution_->SetServing(false); });
  }

  uint16_t ingress_port() const override { return ingress_->port(); }
  int grpc_port() const override { return distribution_->port(); }
  uint16_t admin_port() const override {
    return admin_ == nullptr ? 0 : admin_->port();
  }
  ReloadRegistry& reload() override { return reload_; }
  absl::Status ReloadIngressTls() { return ingress_->ReloadTls(); }
  bool has_grpc_tls() const { return grpc_tls_ != nullptr; }
  absl::Status ReloadGrpcTls() { return grpc_tls_->Reload(); }
  const std::string& stream_epoch() const override {
    return storage_->identity().epoch;
  }
  absl::Status fatal_status() const override { return fatal_->status(); }
  absl::Status ReloadAccessFile() override {
    return access_ != nullptr ? access_->Reload() : absl::OkStatus();
  }

  void Shutdown() override {
    if (stopped_) return;
    stopped_ = true;
    // /readyz and gRPC health say so first, so load balancers stop sending.
    draining_.store(true);
    distribution_->SetServing(false);
    // New webhooks get 503 + Retry-After, so GETTRX retries them later
    // (against this node after a restart, or another one).
    ingress_->StartDraining();
    if (drain_delay_ > absl::ZeroDuration()) {
      LogRecord(LogLevel::kInfo, "draining")
          .Add("drain_delay", absl::FormatDuration(drain_delay_));
      absl::SleepFor(drain_delay_);
    }
    // What the backend was given is written and answered (the sessions'
    // loops still run, so the answers go out); nothing new is taken.
    storage_->Close();
    // Subscribers get a last heartbeat and UNAVAILABLE, and reconnect.
    distribution_->Shutdown(grace_);
    ingress_->Stop();
    if (admin_ != nullptr) admin_->Stop();
  }

 private:
  // Declared first, destroyed last: the parts hold references to them.
  std::unique_ptr<FatalState> fatal_;
  std::unique_ptr<auth::AccessControl> access_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<ingress::IngressServer> ingress_;
  // Before distribution_: its credentials read the copies this keeps.
  std::unique_ptr<distribution::GrpcTls> grpc_tls_;
  std::unique_ptr<distribution::DistributionServer> distribution_;
  // Last: its routes read the parts above.
  std::unique_ptr<admin::AdminServer> admin_;
  ReloadRegistry reload_;
  const absl::Duration grace_;
  const absl::Duration drain_delay_;
  absl::Time start_time_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> draining_{false};
  bool stopped_ = false;
};

// What SIGHUP reloads: the certificates of both listeners, the gRPC access
// file and the signing secrets.
void RegisterReloads(const ServerConfig& config,
                     std::shared_ptr<SwappableVerifier> secrets,
                     ServerImpl& server) {
  server.reload().Add("ingress_tls",
                      [&server] { return server.ReloadIngressTls(); });
  if (server.has_grpc_tls()) {
    server.reload().Add("grpc_tls",
                        [&server] { return server.ReloadGrpcTls(); });
  }
  if (!config.grpc.access_file.empty()) {
    server.reload().Add("grpc_access_file",
                        [&server] { return server.ReloadAccessFile(); });
  }
  if (secrets != nullptr) {
    server.reload().Add(
        "signing_secrets",
        [signing = config.signing,
         secrets = std::move(secrets)]() -> absl::Status {
          ASSIGN_OR_RETURN(std::vector<Secret> loaded, LoadSecrets(signing));
          if (loaded.empty()) {
            return absl::FailedPreconditionError("no signing secret");
          }
          ASSIGN_OR_RETURN(std::shared_ptr<const Verifier> next,
                           ingress::MakeVerifier(signing.scheme, loaded));
          secrets->Swap(std::move(next));
          return absl::OkStatus();
        });
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerConfig& config, const Clock& clock,
    absl::AnyInvocable<void()> on_fatal) {
  RETURN_IF_ERROR(config.Validate());
  auto fatal = std::make_unique<FatalState>(std::move(on_fatal));
  if (absl::StatusOr<uint64_t> fds = EnsureFdLimit(
          config.ingress.max_connections, config.grpc.max_connections);
      !fds.ok()) {
    return fds.status();
  }
  absl::StatusOr<std::unique_ptr<auth::AccessControl>> access =
      GrpcAccessControl(config.grpc);
  if (!access.ok()) return Prefixed("grpc access", access.status());

  absl::StatusOr<std::vector<Secret>> secrets = LoadSecrets(config.signing);
  if (!secrets.ok()) return Prefixed("signing secrets", secrets.status());
  const size_t secret_count = secrets->size();
  absl::StatusOr<ingress::WebhookSource> gettrx = ingress::MakeGettrxSource(
      {.scheme = config.signing.scheme,
       .secrets = *std::move(secrets),
       .allow_unsigned = config.signing.allow_unsigned});
  if (!gettrx.ok()) return Prefixed("gettrx source", gettrx.status());
  // SIGHUP swaps the secrets in (an unsigned source has none to swap).
  std::shared_ptr<SwappableVerifier> secrets_in_use;
  if (gettrx->verifier != nullptr) {
    secrets_in_use = std::make_shared<SwappableVerifier>(gettrx->verifier);
    gettrx->verifier = secrets_in_use;
  }
  ingress::SourceRegistry sources;
  RETURN_IF_ERROR(sources.Add(*std::move(gettrx)));

  // After what can fail without touching it, before anything that serves.
  absl::StatusOr<std::unique_ptr<Storage>> storage =
      Storage::Open(config, clock, [state = fatal.get()](absl::Status status) {
        state->Report(std::move(status));
      });
  if (!storage.ok()) return storage.status();

  ASSIGN_OR_RETURN(auto ingress_address, SplitHostPort(config.ingress.address));
  absl::StatusOr<std::unique_ptr<ingress::IngressServer>> ingress =
      ingress::IngressServer::Start(
          {.address = ingress_address.first,
           .port = ingress_address.second,
           .cert_file = config.tls.cert_file,
           .key_file = config.tls.key_file,
           .max_body_bytes = config.ingress.max_body_bytes,
           .max_event_bytes = config.ingress.max_event_bytes,
           .max_header_bytes = config.ingress.max_header_bytes,
           .max_connections = config.ingress.max_connections,
           .max_connections_per_peer = config.ingress.max_connections_per_peer,
           .allow_cidrs = config.ingress.allow_cidrs,
           .peer_rate_per_second = config.ingress.peer_rate,
           .peer_rate_burst = config.ingress.peer_burst,
           .max_event_id_bytes = config.ingress.max_event_id_bytes,
           .untrusted_idle_timeout = config.ingress.untrusted_idle_timeout,
           .idle_timeout = config.ingress.idle_timeout,
           .header_timeout = config.ingress.header_timeout,
           .body_timeout = config.ingress.body_timeout,
           .write_timeout = config.ingress.write_timeout,
           .io_threads = config.ingress.io_threads},
          std::move(sources), (*storage)->appender(), clock);
  if (!ingress.ok()) return Prefixed("https ingress", ingress.status());

  absl::StatusOr<std::unique_ptr<distribution::GrpcTls>> grpc_tls =
      GrpcTlsFromConfig(config.grpc);
  if (!grpc_tls.ok()) return Prefixed("grpc tls", grpc_tls.status());
  absl::StatusOr<std::unique_ptr<distribution::DistributionServer>>
      distribution = distribution::DistributionServer::Start(
          {.address = config.grpc.address,
           .credentials =
               *grpc_tls != nullptr ? (*grpc_tls)->credentials() : nullptr,
           .stream_threads = config.grpc.stream_threads,
           .access = access->get(),
           .filter_limits = {.max_types = config.grpc.max_filter_types,
                             .max_accounts = config.grpc.max_filter_accounts,
                             .max_bytes = config.grpc.max_filter_bytes},
           .max_streams = config.grpc.max_streams,
           .max_streams_per_connection = config.grpc.max_streams_per_connection,
           .max_request_bytes = config.grpc.max_request_bytes,
           .handshake_timeout = config.grpc.handshake_timeout,
           .max_connection_idle = config.grpc.max_connection_idle,
           .memory_quota_bytes = config.grpc.memory_quota_bytes},
          (*storage)->reader(), clock);
  if (!distribution.ok()) {
    (*ingress)->Stop();
    return Prefixed("grpc", distribution.status());
  }

  LogRecord(LogLevel::kInfo, "started")
      .Add("backend", (*storage)->backend())
      .Add("stream_epoch", (*storage)->identity().epoch)
      .Add("signature_scheme", config.signing.scheme)
      .Add("signing_secrets", secret_count)
      .Add("ring_max_events", config.ring.max_events)
      .Add("ring_max_bytes", config.ring.max_bytes)
      .Add("grpc_tls", !config.grpc.tls.cert_file.empty())
      .Add("grpc_client_ca", !config.grpc.client_ca_file.empty())
      .Add("grpc_identities",
           *access != nullptr ? (*access)->identity_count() : 0);
  auto server = std::make_unique<ServerImpl>(
      std::move(fatal), *std::move(access), *std::move(storage),
      *std::move(ingress), *std::move(grpc_tls), *std::move(distribution),
      config.grpc.shutdown_grace, config.drain_delay);
  server->WatchFatal();
  RegisterReloads(config, std::move(secrets_in_use), *server);
  // On failure the destructor stops what started.
  if (absl::Status s =
          server->StartAdmin(config.admin, config.grpc.authenticates(), clock);
      !s.ok()) {
    return Prefixed("admin", s);
  }
  return server;
}

}  // namespace hookstream
