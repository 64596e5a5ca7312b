// -----------------------------------------------------------------------------
// File: tcp_forwarder.h
// -----------------------------------------------------------------------------
// A loopback TCP forwarder that keeps one listening port for a whole test
// while the server behind it restarts on fresh ephemeral ports: clients
// connect to port() and reach whatever backend is set. Tests of restarts
// therefore never re-bind a released port (which another process may have
// taken in between under ctest -j).
//
// Example:
//   TcpForwarder forwarder;            // listens on 127.0.0.1:<ephemeral>
//   forwarder.SetBackend(server.grpc_port());
//   …  // clients use forwarder.port()
//   forwarder.SetBackend(0);           // "down": connections are refused
//   forwarder.SetBackend(restarted.grpc_port());
//
// SetBackend also closes the connections to the old backend, as the
// server's going away does. Bytes are copied unchanged (TLS passes through).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace hookstream::testing {

class TcpForwarder {
 public:
  TcpForwarder();
  ~TcpForwarder();
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  uint16_t port() const { return port_; }
  // Where new connections go (127.0.0.1:backend_port); 0: closed at once.
  void SetBackend(uint16_t backend_port);

 private:
  void Accept();
  void Pump(int client, int server, uint64_t generation);

  int listener_ = -1;
  int wake_[2] = {-1, -1};  // a pipe that wakes the accept loop on shutdown
  uint16_t port_ = 0;
  absl::Mutex mu_;
  uint16_t backend_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

// A loopback port that refuses connections for the object's lifetime: a
// socket bound to it but not listening, so no other process can take it.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace hookstream::testing
