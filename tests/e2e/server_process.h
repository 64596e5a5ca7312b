// ServerProcess runs the real hookstream-server binary for end-to-end tests:
// ephemeral loopback ports, a certificate made by scripts/dev-setup.sh (the
// script `make run` uses) in a test directory, and the ports read back from
// --ready_file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hookstream::testing {

class ServerProcess {
 public:
  struct Options {
    // Extra flags, e.g. "--ring_max_events=4".
    std::vector<std::string> flags = {};
    // Signing secrets written to the secret file, one per line.
    std::vector<std::string> secrets = {"e2e-secret-0123456789abcdef"};
    // How long to wait for the ready file.
    absl::Duration start_timeout = absl::Seconds(30);
    // A command the server runs under, e.g. {"strace", "-f", "-e", …}
    // (fault injection); signals still go to the server itself.
    std::vector<std::string> wrapper = {};
  };

  // Starts the server and waits until it serves. `dir` holds the certificate
  // (tls.crt, tls.key), the secret file and the server's stderr (server.log).
  static absl::StatusOr<ServerProcess> Start(const std::string& dir,
                                             Options options);

  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  ServerProcess(const ServerProcess&) = delete;
  ~ServerProcess();

  // The server's pid (with a wrapper, not the wrapper's).
  pid_t pid() const { return server_pid_; }
  uint16_t ingress_port() const { return ingress_port_; }
  uint16_t grpc_port() const { return grpc_port_; }
  // The admin listener (started on an ephemeral port).
  uint16_t admin_port() const { return admin_port_; }
  std::string admin_url(const std::string& path) const;
  const std::string& stream_epoch() const { return stream_epoch_; }
  std::string grpc_target() const;
  std::string webhook_url() const;
  const std::string& ca_file() const { return ca_file_; }
  const std::string& log_file() const { return log_file_; }
  // Started and not yet stopped, killed or waited for.
  bool running() const { return pid_ > 0; }

  // Sends SIGTERM and waits for the exit status (at most `timeout`, then
  // SIGKILL). Returns the exit code, or an error if it did not exit cleanly.
  absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(30));

  // kill -9: the server dies at once, with whatever it had in flight.
  void Kill();

  // Waits (at most `timeout`) for the server to exit by itself; returns its
  // exit code (128 + signal when killed by one).
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  ServerProcess() = default;

  pid_t pid_ = -1;         // what was spawned (the server, or its wrapper)
  pid_t server_pid_ = -1;  // from the ready file
  uint16_t ingress_port_ = 0;
  uint16_t grpc_port_ = 0;
  uint16_t admin_port_ = 0;
  std::string stream_epoch_;
  std::string ca_file_;
  std::string log_file_;
};

}  // namespace hookstream::testing
