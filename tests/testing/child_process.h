// A long-running child process for tests (e.g. `hookstream tail` following a
// stream across a server restart): its stdout and stderr go to a file the
// test reads while it runs; Terminate (or the destructor) ends it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

namespace hookstream::testing {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] looked up on PATH) with stdout and stderr
  // appended to `output_file`; pid() is -1 if it could not start.
  static ChildProcess Spawn(const std::vector<std::string>& argv,
                            const std::string& output_file) {
    ChildProcess child;
    child.output_file_ = output_file;
    std::vector<std::string> args = argv;
    std::vector<char*> c_args;
    for (std::string& a : args) c_args.push_back(a.data());
    c_args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                     output_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    if (posix_spawnp(&child.pid_, c_args[0], &actions, nullptr, c_args.data(),
                     environ) != 0) {
      child.pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    return child;
  }

  ChildProcess(ChildProcess&& other) noexcept
      : pid_(other.pid_), output_file_(std::move(other.output_file_)) {
    other.pid_ = -1;
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { Terminate(); }

  pid_t pid() const { return pid_; }

  std::string Output() const {
    std::ifstream in(output_file_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Polls the output (every 20 ms) until `done` holds or `timeout` passes.
  bool WaitForOutput(absl::FunctionRef<bool(const std::string&)> done,
                     absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (done(Output())) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done(Output());
  }

  // SIGTERM, then SIGKILL if it has not exited within 10 s; reaps it.
  void Terminate() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::string output_file_;
};

}  // namespace hookstream::testing
