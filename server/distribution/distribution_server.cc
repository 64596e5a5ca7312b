#include "server/distribution/distribution_server.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc/impl/codegen/grpc_types.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/distribution/call_auth.h"
#include "server/distribution/catch_up.h"
#include "server/distribution/event_stream_service.h"
#include "server/distribution/stream_scheduler.h"
#include "server/distribution/subscriber_registry.h"

namespace hookstream::distribution {
namespace {

// How long unary calls in flight may take once every stream has ended.
constexpr absl::Duration kUnaryGrace = absl::Milliseconds(250);

}  // namespace

absl::StatusOr<std::unique_ptr<DistributionServer>> DistributionServer::Start(
    DistributionOptions options, EventReader& reader, const Clock& clock) {
  auto registry = std::make_unique<SubscriberRegistry>(options.max_streams);
  if (options.stream_threads < 1 || options.stream_threads > 256) {
    return absl::InvalidArgumentError(
        "stream_threads must be between 1 and 256");
  }
  auto scheduler =
      std::make_unique<StreamScheduler>(options.stream_threads, clock);
  if (options.access != nullptr && options.credentials == nullptr) {
    return absl::InvalidArgumentError(
        "authentication needs TLS (a token in clear text is no secret)");
  }
  auto catch_up = std::make_unique<CatchUp>(reader);
  auto service = std::make_unique<EventStreamService>(
      reader, clock, *registry, *scheduler, options.access,
      options.filter_limits, catch_up.get());
  std::unique_ptr<DistributionServer> server(
      new DistributionServer(std::move(registry), std::move(scheduler),
                             std::move(catch_up), std::move(service)));

  // Links the health service's descriptor in, so reflection can describe
  // grpc.health.v1.Health (the default service is built without one).
  (void)grpc::health::v1::HealthCheckResponse::descriptor();
  // Process-wide switches; they must be set before the builder is created.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::shared_ptr<grpc::ServerCredentials> credentials =
      options.credentials != nullptr ? options.credentials
                                     : grpc::InsecureServerCredentials();
  if (options.access != nullptr) {
    credentials->SetAuthMetadataProcessor(
        std::make_shared<AuthProcessor>(*options.access));
  }
  grpc::ServerBuilder builder;
  // Without SO_REUSEPORT a port another process holds is an error here, not
  // two servers silently sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_streams_per_connection);
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.handshake_timeout)));
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_idle)));
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  grpc::ResourceQuota quota("hookstream-grpc");
  quota.Resize(options.memory_quota_bytes);
  builder.SetResourceQuota(quota);
  builder.AddListeningPort(options.address, credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  builder.experimental().SetInterceptorCreators(
      MakeInterceptorFactories(*server->grpc_metrics_));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->server_.reset();
    return absl::UnavailableError(
        absl::StrCat("gRPC server could not listen on ", options.address));
  }
  server->SetServing(true);
  LogRecord(LogLevel::kInfo, "grpc server started")
      .Add("address", options.address)
      .Add("port", server->port_)
      .Add("tls", options.credentials != nullptr)
      .Add("authentication", options.access != nullptr)
      .Add("max_streams", options.max_streams)
      .Add("max_request_bytes", options.max_request_bytes);
  return server;
}

DistributionServer::DistributionServer(
    std::unique_ptr<SubscriberRegistry> registry,
    std::unique_ptr<StreamScheduler> scheduler,
    std::unique_ptr<CatchUp> catch_up,
    std::unique_ptr<EventStreamService> service)
    : registry_(std::move(registry)),
      scheduler_(std::move(scheduler)),
      catch_up_(std::move(catch_up)),
      service_(std::move(service)) {}

DistributionServer::~DistributionServer() { Shutdown(absl::ZeroDuration()); }

void DistributionServer::WakeTimers() { scheduler_->Wake(); }

void DistributionServer::SetServing(bool serving) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_ || server_ == nullptr) return;
  if (grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    health->SetServingStatus("hookstream.v1.EventStream", serving);
    health->SetServingStatus(serving);  // every service, "" included
  }
}

void DistributionServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ == nullptr) return;
  const absl::Time deadline = absl::Now() + grace;
  registry_->Shutdown();
  // Calls waiting for this replica to catch up answer now, from what it
  // holds (gRPC's shutdown waits for every call to finish).
  catch_up_->Stop();
  if (grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    health->Shutdown();  // health checks now answer NOT_SERVING
  }
  // Streams end on their own (a last heartbeat, then UNAVAILABLE) unless
  // their client stopped reading. Once they have, gRPC would still wait for
  // every client to close its idle connection after GOAWAY, up to the
  // deadline; a short margin for unary calls in flight is enough.
  absl::Time stop_by = deadline;
  if (registry_->WaitUntilEmpty(deadline)) {
    stop_by = std::min(deadline, absl::Now() + kUnaryGrace);
  }
  server_->Shutdown(absl::ToChronoTime(stop_by));
  server_->Wait();
  LogRecord(LogLevel::kInfo, "grpc server stopped").Add("port", port_);
}

}  // namespace hookstream::distribution
