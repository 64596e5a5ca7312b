// -----------------------------------------------------------------------------
// File: nats_server.h
// -----------------------------------------------------------------------------
// A real nats-server (Debian's, with JetStream) that a test starts on an
// ephemeral loopback port, in its own store directory, and stops (or kills,
// or pauses with SIGSTOP to look like a node that does not answer). The
// port is the one nats-server reports in its ports file, never guessed.
//
// Example:
//   absl::StatusOr<std::unique_ptr<NatsServer>> nats = NatsServer::Start(dir);
//   ASSERT_TRUE(nats.ok()) << nats.status();
//   options.urls = {(*nats)->url()};
//
// Thread-safety: not thread-safe; one test thread drives it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/watched_process.h"

namespace hookstream::testing {

class NatsServer {
 public:
  // `dir` (created if missing) holds the store and the ports file. The
  // nats-server binary is Debian's /usr/sbin/nats-server (or
  // $HOOKSTREAM_NATS_SERVER).
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(
      const std::string& dir, absl::Duration timeout = absl::Seconds(20));
  ~NatsServer();  // SIGKILL if still running

  // nats://127.0.0.1:PORT
  const std::string& url() const { return url_; }
  int port() const { return port_; }

  // SIGSTOP / SIGCONT: a server that takes connections but never answers.
  void Pause();
  void Resume();
  // SIGTERM and wait (bounded).
  absl::Status Stop(absl::Duration timeout = absl::Seconds(20));

 private:
  NatsServer() = default;
  std::unique_ptr<WatchedProcess> process_;
  std::string url_;
  int port_ = 0;
};

}  // namespace hookstream::testing
