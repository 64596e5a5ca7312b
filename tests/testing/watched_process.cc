#include "tests/testing/watched_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace hookstream::testing {

absl::StatusOr<std::unique_ptr<WatchedProcess>> WatchedProcess::Start(
    const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe2 failed");
  }
  // `env` replaces inherited variables of the same name: with both in the
  // environment, which one a child's getenv sees is up to the child.
  const auto overridden = [&env](absl::string_view inherited) {
    const absl::string_view name = inherited.substr(0, inherited.find('='));
    for (const std::string& e : env) {
      if (absl::StartsWith(e, absl::StrCat(name, "="))) return true;
    }
    return false;
  };
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) envs.emplace_back(*e);
  }
  for (const std::string& e : env) envs.push_back(e);
  std::vector<char*> c_env;
  for (std::string& e : envs) c_env.push_back(e.data());
  c_env.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (std::string& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  std::unique_ptr<WatchedProcess> child(new WatchedProcess());
  const int rc = posix_spawn(&child->pid_, c_argv[0], &actions, nullptr,
                             c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    child->pid_ = -1;
    return absl::InternalError(
        absl::StrCat("posix_spawn ", argv[0], ": ", std::strerror(rc)));
  }
  WatchedProcess* c = child.get();
  child->out_reader_ = std::thread([c, fd = out[0]] { c->Read(fd, true); });
  child->err_reader_ = std::thread([c, fd = err[0]] { c->Read(fd, false); });
  return child;
}

WatchedProcess::~WatchedProcess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_reader_.joinable()) out_reader_.join();
  if (err_reader_.joinable()) err_reader_.join();
}

void WatchedProcess::Read(int fd, bool is_stdout) {
  std::string partial;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = partial.find('\n')) != std::string::npos) {
      absl::MutexLock lock(&mu_);
      (is_stdout ? out_ : err_).push_back(partial.substr(0, newline));
      partial.erase(0, newline + 1);
    }
  }
  close(fd);
  absl::MutexLock lock(&mu_);
  if (!partial.empty()) (is_stdout ? out_ : err_).push_back(partial);
  --open_streams_;
}

bool WatchedProcess::WaitForStdoutLines(size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return out_.size() >= n || open_streams_ == 0;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return out_.size() >= n;
}

bool WatchedProcess::WaitForStderr(const std::string& text,
                                   absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const std::string& line : err_) {
      if (absl::StrContains(line, text)) return true;
    }
    return open_streams_ == 0;
  };
  mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
  for (const std::string& line : err_) {
    if (absl::StrContains(line, text)) return true;
  }
  return false;
}

std::vector<std::string> WatchedProcess::StdoutLines() const {
  absl::MutexLock lock(&mu_);
  return out_;
}

std::vector<std::string> WatchedProcess::StderrLines() const {
  absl::MutexLock lock(&mu_);
  return err_;
}

std::string WatchedProcess::Stderr() const {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(err_, "\n");
}

void WatchedProcess::Signal(int signal) {
  if (!exited_ && pid_ > 0) kill(pid_, signal);
}

absl::StatusOr<int> WatchedProcess::Wait(absl::Duration timeout) {
  if (exited_) return exit_code_;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      out_reader_.join();
      err_reader_.join();
      return exit_code_;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("the child is still running");
    }
    absl::SleepFor(absl::Milliseconds(10));  // waitpid has no timeout
  }
}

}  // namespace hookstream::testing
