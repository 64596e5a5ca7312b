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

namespace hookstream::distribution {

class EventStreamService;
class StreamScheduler;
class SubscriberRegistry;

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

  // The clock moved by a jump (a test's FakeClock): heartbeats that became
  // due are sent now. Real clocks never need it.
  void WakeTimers();

  // Ends every stream (last heartbeat, UNAVAILABLE), then shuts the server
  // down, cancelling what is still running after `grace`. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  DistributionServer(std::unique_ptr<SubscriberRegistry> registry,
                     std::unique_ptr<StreamScheduler> scheduler,
                     std::unique_ptr<EventStreamService> service);

  std::unique_ptr<SubscriberRegistry> registry_;
  // Declared before service_ and server_: destroyed after every stream ended.
  std::unique_ptr<StreamScheduler> scheduler_;
  std::unique_ptr<EventStreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace hookstream::distribution
