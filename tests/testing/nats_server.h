// -----------------------------------------------------------------------------
// File: nats_server.h
// -----------------------------------------------------------------------------
// A real nats-server (Debian's, with JetStream) that a test starts on
// ephemeral loopback ports, in its own store directory, alone or as one node
// of a cluster (cluster routes to the nodes started before it). The ports
// are the ones nats-server reports in its ports file, never guessed.
//
// Clients connect through a TcpForwarder (url()), so that a node stopped
// and started again (Restart: same store, fresh ephemeral ports) is reached
// at the same address; the node's own address is direct_url().
//
// Example:
//   absl::StatusOr<std::unique_ptr<NatsServer>> nats = NatsServer::Start(dir);
//   ASSERT_TRUE(nats.ok()) << nats.status();
//   options.urls = {(*nats)->url()};
//   ASSERT_TRUE((*nats)->Stop().ok());     // JetStream does not answer
//   ASSERT_TRUE((*nats)->Restart().ok());  // the same stream, same url()
//
// Thread-safety: not thread-safe; one test thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/tcp_forwarder.h"
#include "tests/testing/watched_process.h"

namespace hookstream::testing {

class NatsServer {
 public:
  struct Options {
    // server_name (JetStream clusters need one per node).
    std::string name = "n1";
    // Non-empty: a cluster node of this cluster name, with routes to
    // `routes` (the cluster_url() of the nodes started before).
    std::string cluster = "";
    std::vector<std::string> routes = {};
    // nats-server's default is 1 MB, less than hookstream's largest event
    // (--max_event_bytes, about 4 MiB): the config raises it, as
    // docs/scale-out.md tells production to.
    int64_t max_payload = int64_t{8} << 20;
  };

  // `dir` (created if missing) holds the config, the store and the ports
  // file. The binary is Debian's /usr/sbin/nats-server (or
  // $HOOKSTREAM_NATS_SERVER).
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(
      const std::string& dir, Options options,
      absl::Duration timeout = absl::Seconds(30));
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(
      const std::string& dir) {
    return Start(dir, Options{});
  }
  ~NatsServer();  // SIGKILL if still running

  // nats://127.0.0.1:PORT of the forwarder (stable across Restart).
  std::string url() const;
  // The node's own client and cluster (route) addresses.
  const std::string& direct_url() const { return direct_url_; }
  const std::string& cluster_url() const { return cluster_url_; }
  const std::string& name() const { return options_.name; }
  bool running() const { return process_ != nullptr; }

  // SIGTERM and wait (bounded); the forwarder then refuses connections.
  absl::Status Stop(absl::Duration timeout = absl::Seconds(20));
  // SIGKILL (a crashed node); the forwarder then refuses connections.
  absl::Status Kill();
  // Starts the stopped node again on its store (fresh ports).
  absl::Status Restart(absl::Duration timeout = absl::Seconds(30));
  // Waits until a log line contains `text`.
  bool WaitForLog(const std::string& text, absl::Duration timeout);

 private:
  NatsServer() = default;
  absl::Status Launch(absl::Duration timeout);

  std::string dir_;
  Options options_;
  std::unique_ptr<WatchedProcess> process_;
  std::unique_ptr<TcpForwarder> forwarder_;
  std::unique_ptr<ClosedPort> seed_route_;
  std::string direct_url_;
  std::string cluster_url_;
};

}  // namespace hookstream::testing
