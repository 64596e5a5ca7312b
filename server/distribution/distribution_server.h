// -----------------------------------------------------------------------------
// File: distribution_server.h
// -----------------------------------------------------------------------------
// DistributionServer is the gRPC server that streams the ring to
// subscribers: hookstream.v1.EventStream, grpc.health.v1.Health (the default
// health service, SERVING while up) and server reflection. It is what the
// composition root (server/server.cc) starts and stops; the gRPC server API
// is used nowhere else.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<DistributionServer> grpc_server,
//                    DistributionServer::Start({.address = "127.0.0.1:0"},
//                                              ring, RealClock()));
//   LogRecord(LogLevel::kInfo, "grpc").Add("port", grpc_server->port());
//   ...
//   grpc_server->Shutdown(absl::Seconds(5));
//
// Shutdown order: every Subscribe stream gets a last heartbeat and ends with
// UNAVAILABLE (clients reconnect and resume from that heartbeat's position);
// then gRPC's Shutdown waits up to `grace` for calls to finish and cancels the
// rest (a subscriber that stopped reading cannot take its last heartbeat, so
// it is cancelled at the deadline).
//
// Thread-safety: Shutdown and port may be called from any thread; Shutdown is
// idempotent and the destructor calls it. `ring` and `clock` must outlive the
// server.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/store/event_reader.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "server/auth/access_control.h"
#include "server/distribution/catch_up.h"
#include "server/distribution/event_filter.h"
#include "server/distribution/grpc_metrics.h"
#include "server/distribution/subscriber_registry.h"

namespace hookstream::distribution {

class EventStreamService;
class StreamScheduler;

struct DistributionOptions {
  // host:port; port 0 picks an ephemeral port (see DistributionServer::port).
  std::string address = "127.0.0.1:50051";
  // Null: insecure (plaintext), meant for loopback development only.
  std::shared_ptr<grpc::ServerCredentials> credentials = nullptr;
  // Threads of the StreamScheduler shared by all Subscribe streams: they run
  // the reads and writes woken by appends, heartbeats and shutdown requests.
  // More threads than cores pays: gRPC coalesces writes to one connection
  // only while they overlap (10,000 streams / 100 connections / 2 cores:
  // 1 thread ~30, 2 threads ~18, 4 threads ~14 us of server CPU per
  // delivery; 8 no better than 4).
  int stream_threads = 4;

  // Authentication and authorization (call_auth.h): every call on every
  // service needs an identity, and EventStream methods apply its grant.
  // Null: none (loopback development only). Needs `credentials` (TLS): the
  // processor sits on them. Must outlive the server.
  const auth::AccessControl* access = nullptr;

  // Limits no client can raise (docs/security.md lists each with its flag).
  FilterLimits filter_limits = {};
  // Live Subscribe streams in total; more: RESOURCE_EXHAUSTED.
  size_t max_streams = 20'000;
  // Concurrent calls per HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS);
  // gRPC queues a client's further calls until one ends.
  int max_streams_per_connection = 1'000;
  // Largest request message; larger: RESOURCE_EXHAUSTED from gRPC.
  int max_request_bytes = 64 << 10;
  // A connection that has not finished its TLS and HTTP/2 handshake by then
  // is closed (gRPC's default is 120 s).
  absl::Duration handshake_timeout = absl::Seconds(10);
  // A connection without any call for this long gets GOAWAY (clients
  // reconnect when they next need it).
  absl::Duration max_connection_idle = absl::Minutes(10);
  // Memory gRPC may use for its buffers across all connections; beyond it
  // gRPC sheds load (gRPC's ResourceQuota).
  size_t memory_quota_bytes = size_t{1} << 30;
};

class DistributionServer {
 public:
  // Builds and starts the server. UNAVAILABLE when the address cannot be
  // bound; INVALID_ARGUMENT for `stream_threads` outside 1..256.
  static absl::StatusOr<std::unique_ptr<DistributionServer>> Start(
      DistributionOptions options, EventReader& reader, const Clock& clock);

  DistributionServer(const DistributionServer&) = delete;
  DistributionServer& operator=(const DistributionServer&) = delete;
  ~DistributionServer();

  // The port actually bound.
  int port() const { return port_; }

  // The live streams and their counters, and every call's (metrics).
  const SubscriberRegistry& subscribers() const { return *registry_; }
  const GrpcMetrics& grpc_metrics() const { return *grpc_metrics_; }

  // What grpc.health.v1.Health answers for the server ("") and for
  // hookstream.v1.EventStream: SERVING or NOT_SERVING. The composition root
  // keeps it equal to /readyz. Shutdown turns it NOT_SERVING for good.
  void SetServing(bool serving);

  // The clock moved by a jump (a test's FakeClock): heartbeats that became
  // due are sent now. Real clocks never need it.
  void WakeTimers();

  // Ends every stream (last heartbeat, UNAVAILABLE), then shuts the server
  // down, cancelling what is still running after `grace`. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  DistributionServer(std::unique_ptr<SubscriberRegistry> registry,
                     std::unique_ptr<StreamScheduler> scheduler,
                     std::unique_ptr<CatchUp> catch_up,
                     std::unique_ptr<EventStreamService> service);

  std::unique_ptr<SubscriberRegistry> registry_;
  // Before server_: interceptors count into it until the server is gone.
  std::unique_ptr<GrpcMetrics> grpc_metrics_ = std::make_unique<GrpcMetrics>();
  // Declared before service_ and server_: destroyed after every stream ended.
  std::unique_ptr<StreamScheduler> scheduler_;
  std::unique_ptr<CatchUp> catch_up_;
  std::unique_ptr<EventStreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace hookstream::distribution
