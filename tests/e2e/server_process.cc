#include "tests/e2e/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace hookstream::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Extracts the number after `"key":` from the ready file's one-line JSON.
bool FindNumber(const std::string& json, const std::string& key,
                uint32_t* out) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  const size_t at = json.find(needle);
  if (at == std::string::npos) return false;
  size_t end = at + needle.size();
  while (end < json.size() && json[end] >= '0' && json[end] <= '9') ++end;
  return absl::SimpleAtoi(absl::string_view(json).substr(
                              at + needle.size(), end - at - needle.size()),
                          out);
}

std::string FindString(const std::string& json, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":\"");
  const size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size();
  return json.substr(start, json.find('"', start) - start);
}

absl::Status RunSetup(const std::string& dir) {
  const std::string cmd = absl::StrCat(
      HOOKSTREAM_SOURCE_DIR, "/scripts/dev-setup.sh '", dir, "' >/dev/null");
  if (std::system(cmd.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", cmd));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerProcess> ServerProcess::Start(const std::string& dir,
                                                   Options options) {
  if (absl::Status s = RunSetup(dir); !s.ok()) return s;
  const std::string secret_file = dir + "/signing-secret";
  {
    std::ofstream out(secret_file, std::ios::trunc);
    out << absl::StrJoin(options.secrets, "\n") << "\n";
  }
  ::chmod(secret_file.c_str(), 0600);
  const std::string ready_file = dir + "/ready.json";
  ::unlink(ready_file.c_str());

  std::vector<std::string> args = std::move(options.wrapper);
  std::vector<std::string> server_args = {
      HOOKSTREAM_SERVER_BIN,
      "--ingress_address=127.0.0.1:0",
      "--grpc_address=127.0.0.1:0",
      "--admin_address=127.0.0.1:0",
      absl::StrCat("--tls_cert=", dir, "/tls.crt"),
      absl::StrCat("--tls_key=", dir, "/tls.key"),
      absl::StrCat("--signing_secret_file=", secret_file),
      absl::StrCat("--ready_file=", ready_file),
  };
  for (std::string& f : options.flags) server_args.push_back(std::move(f));
  for (std::string& a : server_args) args.push_back(std::move(a));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  ServerProcess p;
  p.log_file_ = dir + "/server.log";
  p.ca_file_ = dir + "/tls.crt";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, p.log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  const int rc =
      posix_spawnp(&p.pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    p.pid_ = -1;
    return absl::InternalError(
        absl::StrCat("posix_spawn ", argv[0], ": ", std::strerror(rc)));
  }

  // Wait for the ready file, or for the process to die.
  const absl::Time deadline = absl::Now() + options.start_timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(p.pid_, &status, WNOHANG) == p.pid_) {
      p.pid_ = -1;
      return absl::InternalError(
          absl::StrCat("hookstream-server exited at start (status ", status,
                       "): ", ReadFile(p.log_file_)));
    }
    const std::string ready = ReadFile(ready_file);
    uint32_t ingress = 0;
    uint32_t grpc = 0;
    uint32_t server_pid = 0;
    uint32_t admin = 0;
    if (FindNumber(ready, "ingress_port", &ingress) &&
        FindNumber(ready, "grpc_port", &grpc) &&
        FindNumber(ready, "admin_port", &admin) &&
        FindNumber(ready, "pid", &server_pid)) {
      p.admin_port_ = static_cast<uint16_t>(admin);
      p.ingress_port_ = static_cast<uint16_t>(ingress);
      p.grpc_port_ = static_cast<uint16_t>(grpc);
      p.server_pid_ = static_cast<pid_t>(server_pid);
      p.stream_epoch_ = FindString(ready, "stream_epoch");
      return p;
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a file for readiness
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "hookstream-server did not become ready: ", ReadFile(p.log_file_)));
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      server_pid_(std::exchange(other.server_pid_, -1)),
      ingress_port_(other.ingress_port_),
      grpc_port_(other.grpc_port_),
      admin_port_(other.admin_port_),
      stream_epoch_(std::move(other.stream_epoch_)),
      ca_file_(std::move(other.ca_file_)),
      log_file_(std::move(other.log_file_)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    if (server_pid_ > 0) ::kill(server_pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(server_pid_ > 0 ? server_pid_ : pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::StatusOr<int> ServerProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a child's exit
  }
  return absl::DeadlineExceededError("hookstream-server is still running");
}

std::string ServerProcess::grpc_target() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

std::string ServerProcess::admin_url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", admin_port_, path);
}

std::string ServerProcess::webhook_url() const {
  return absl::StrCat("https://127.0.0.1:", ingress_port_,
                      "/v1/webhooks/gettrx");
}

absl::StatusOr<int> ServerProcess::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  ::kill(server_pid_ > 0 ? server_pid_ : pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < deadline) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return absl::InternalError(
          absl::StrCat("hookstream-server died with signal ", WTERMSIG(status),
                       ": ", ReadFile(log_file_)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::DeadlineExceededError(
      "hookstream-server did not stop within the timeout after SIGTERM");
}

}  // namespace hookstream::testing
