// -----------------------------------------------------------------------------
// File: watched_process.h
// -----------------------------------------------------------------------------
// A program a test starts in the background and watches while it runs (a
// `hookstream tail` or an example subscriber following a server through a
// restart): its stdout and stderr are read line by line as they come, and
// the test waits, bounded, for a line it expects.
//
// Example:
//   absl::StatusOr<std::unique_ptr<WatchedProcess>> tail =
//       WatchedProcess::Start({cli, "tail", "--from=oldest"});
//   ASSERT_TRUE((*tail)->WaitForStdoutLines(3, absl::Seconds(30)));
//   absl::StatusOr<int> code = (*tail)->Wait(absl::Seconds(30));
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hookstream::testing {

class WatchedProcess {
 public:
  // Starts argv[0] (a path) with the environment plus `env` ("K=V"; a
  // variable named there replaces the inherited one).
  static absl::StatusOr<std::unique_ptr<WatchedProcess>> Start(
      const std::vector<std::string>& argv,
      const std::vector<std::string>& env = {});
  // Kills (SIGKILL) a child still running.
  ~WatchedProcess();

  // Waits until stdout has at least `n` lines; false on timeout or if the
  // child ended first.
  bool WaitForStdoutLines(size_t n, absl::Duration timeout);
  // Waits until a stderr line contains `text`; false on timeout.
  bool WaitForStderr(const std::string& text, absl::Duration timeout);

  std::vector<std::string> StdoutLines() const;
  std::vector<std::string> StderrLines() const;
  std::string Stderr() const;

  // Sends `signal`.
  void Signal(int signal);
  // Waits for the exit code (-signal if killed by one); DEADLINE_EXCEEDED
  // if still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  WatchedProcess() = default;
  void Read(int fd, bool is_stdout);

  pid_t pid_ = -1;
  mutable absl::Mutex mu_;
  std::vector<std::string> out_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> err_ ABSL_GUARDED_BY(mu_);
  int open_streams_ ABSL_GUARDED_BY(mu_) = 2;
  bool exited_ = false;
  int exit_code_ = 0;
  std::thread out_reader_;
  std::thread err_reader_;
};

}  // namespace hookstream::testing
