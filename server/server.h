// -----------------------------------------------------------------------------
// File: server.h
// -----------------------------------------------------------------------------
// Server is the composition root: it builds the ring, the webhook sources,
// the HTTPS ingress and the gRPC distribution from a ServerConfig, and owns
// their start and stop order. Ingress and distribution never see each other;
// they meet only at the ring, here.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
//                    Server::Start(config, RealClock()));
//   WaitForSignal();
//   server->Shutdown();
//
// Thread-safety: Start and Shutdown from one thread; the accessors from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/base/clock.h"
#include "server/reload.h"
#include "server/server_config.h"

namespace hookstream {

class Server {
 public:
  // Starts everything, or nothing: on error whatever was started is stopped
  // again and the status says which part failed and why.
  // `on_fatal` may be empty; it must not block (main wakes its signal
  // loop with it).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerConfig& config, const Clock& clock,
      absl::AnyInvocable<void()> on_fatal = nullptr);

  virtual ~Server() = default;

  virtual uint16_t ingress_port() const = 0;
  virtual int grpc_port() const = 0;
  virtual const std::string& stream_epoch() const = 0;
  // The admin listener's port; 0 when config.admin.address is empty.
  virtual uint16_t admin_port() const = 0;

  // What SIGHUP runs (reload.h): every part that can re-read its files.
  virtual ReloadRegistry& reload() = 0;

  // OK while the server is healthy. Once a part fails in a way it must not
  // recover from by itself (the journal's fsync failed: retrying one can
  // report success for data that is gone), the reason: the caller must then
  // Shutdown and exit non-zero. `on_fatal` (see Start) is called once, from
  // the failing part's thread, when this turns non-OK.
  virtual absl::Status fatal_status() const = 0;

  // Stops in the order that loses nothing acknowledged: the ingress drains
  // (new requests get 503 + Retry-After), subscribers get a last heartbeat
  // and UNAVAILABLE, then listeners close. Idempotent.
  virtual void Shutdown() = 0;

  // Reads --grpc_access_file again (for SIGHUP). On an error the policy in
  // force stays and the error says why; OK without an access file.
  virtual absl::Status ReloadAccessFile() = 0;
};

}  // namespace hookstream
