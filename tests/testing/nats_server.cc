#include "tests/testing/nats_server.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hookstream::testing {
namespace {

// The ports file nats-server writes once it listens:
// {"client":["nats://127.0.0.1:PORT"],...}: the first client URL.
std::string ClientUrl(const std::string& text) {
  const size_t at = text.find("nats://");
  if (at == std::string::npos) return "";
  const size_t end = text.find('"', at);
  return end == std::string::npos ? "" : text.substr(at, end - at);
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start(
    const std::string& dir, absl::Duration timeout) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/ports", ec);
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  for (const auto& entry :
       std::filesystem::directory_iterator(dir + "/ports")) {
    std::filesystem::remove(entry.path(), ec);
  }
  const char* bin = std::getenv("HOOKSTREAM_NATS_SERVER");
  const std::string binary =
      bin != nullptr && *bin != '\0' ? bin : "/usr/sbin/nats-server";
  auto server = std::unique_ptr<NatsServer>(new NatsServer());
  absl::StatusOr<std::unique_ptr<WatchedProcess>> process =
      WatchedProcess::Start({binary, "-a", "127.0.0.1", "-p", "-1", "-js",
                             "-sd", dir + "/store", "--ports_file_dir",
                             dir + "/ports"});
  if (!process.ok()) return process.status();
  server->process_ = *std::move(process);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    for (const auto& entry :
         std::filesystem::directory_iterator(dir + "/ports", ec)) {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      server->url_ = ClientUrl(text.str());
    }
    if (!server->url_.empty() &&
        server->process_->WaitForStderr("Server is ready",
                                        absl::Milliseconds(10))) {
      const size_t colon = server->url_.rfind(':');
      if (!absl::SimpleAtoi(server->url_.substr(colon + 1), &server->port_)) {
        return absl::InternalError(
            absl::StrCat("nats-server ports file: ", server->url_));
      }
      return server;
    }
    if (server->process_->Wait(absl::Milliseconds(20)).ok()) {
      return absl::InternalError(absl::StrCat("nats-server exited at start: ",
                                              server->process_->Stderr()));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "nats-server not ready within ", absl::FormatDuration(timeout), ": ",
      server->process_->Stderr()));
}

NatsServer::~NatsServer() {
  if (process_ != nullptr) Resume();
}

void NatsServer::Pause() { process_->Signal(SIGSTOP); }
void NatsServer::Resume() { process_->Signal(SIGCONT); }

absl::Status NatsServer::Stop(absl::Duration timeout) {
  Resume();
  process_->Signal(SIGTERM);
  absl::StatusOr<int> code = process_->Wait(timeout);
  return code.ok() ? absl::OkStatus() : code.status();
}

}  // namespace hookstream::testing
