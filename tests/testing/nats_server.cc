#include "tests/testing/nats_server.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hookstream::testing {
namespace {

// The ports file nats-server writes once it listens:
// {"nats":["nats://127.0.0.1:PORT"],"cluster":["nats://…"]} (2.9.10): the
// first URL of `key`.
std::string UrlOf(const std::string& text, const std::string& key) {
  const size_t k = text.find("\"" + key + "\"");
  if (k == std::string::npos) return "";
  const size_t at = text.find("nats://", k);
  if (at == std::string::npos) return "";
  const size_t end = text.find('"', at);
  return end == std::string::npos ? "" : text.substr(at, end - at);
}

int PortOf(const std::string& url) {
  int port = 0;
  const size_t colon = url.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(url.substr(colon + 1), &port)) {
    return 0;
  }
  return port;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start(
    const std::string& dir, Options options, absl::Duration timeout) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/ports", ec);
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  auto server = std::unique_ptr<NatsServer>(new NatsServer());
  server->dir_ = dir;
  server->options_ = std::move(options);
  server->forwarder_ = std::make_unique<TcpForwarder>();

  std::string config = absl::StrCat(
      "listen: 127.0.0.1:-1\n", "server_name: ", server->options_.name, "\n",
      "max_payload: ", server->options_.max_payload, "\n",
      "jetstream { store_dir: \"", dir, "/store\" }\n");
  if (!server->options_.cluster.empty()) {
    // A JetStream cluster node wants configured routes; the first node has
    // none to name yet, so it gets one to a port that refuses (the others
    // route to it and gossip completes the mesh).
    if (server->options_.routes.empty()) {
      server->seed_route_ = std::make_unique<ClosedPort>();
      server->options_.routes.push_back(
          absl::StrCat("nats://127.0.0.1:", server->seed_route_->port()));
    }
    absl::StrAppend(&config, "cluster {\n  name: ", server->options_.cluster,
                    "\n  listen: 127.0.0.1:-1\n  routes: [",
                    absl::StrJoin(server->options_.routes, ", "), "]\n}\n");
  }
  std::ofstream(dir + "/nats.conf") << config;
  if (absl::Status launched = server->Launch(timeout); !launched.ok()) {
    return launched;
  }
  return server;
}

absl::Status NatsServer::Launch(absl::Duration timeout) {
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_ + "/ports", ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
  const char* bin = std::getenv("HOOKSTREAM_NATS_SERVER");
  const std::string binary =
      bin != nullptr && *bin != '\0' ? bin : "/usr/sbin/nats-server";
  absl::StatusOr<std::unique_ptr<WatchedProcess>> process =
      WatchedProcess::Start({binary, "-c", dir_ + "/nats.conf",
                             "--ports_file_dir", dir_ + "/ports"});
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  direct_url_.clear();
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    for (const auto& entry :
         std::filesystem::directory_iterator(dir_ + "/ports", ec)) {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      direct_url_ = UrlOf(text.str(), "nats");
      cluster_url_ = UrlOf(text.str(), "cluster");
    }
    const bool listening = !direct_url_.empty() &&
                           (options_.cluster.empty() || !cluster_url_.empty());
    if (listening &&
        process_->WaitForStderr("Server is ready", absl::Milliseconds(10))) {
      const int port = PortOf(direct_url_);
      if (port == 0) {
        return absl::InternalError(
            absl::StrCat("nats-server ports file: ", direct_url_));
      }
      forwarder_->SetBackend(static_cast<uint16_t>(port));
      return absl::OkStatus();
    }
    if (process_->Wait(absl::Milliseconds(20)).ok()) {
      const std::string err = process_->Stderr();
      process_.reset();
      return absl::InternalError(
          absl::StrCat("nats-server exited at start: ", err));
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("nats-server not ready within ",
                   absl::FormatDuration(timeout), ": ", process_->Stderr()));
}

NatsServer::~NatsServer() {
  if (forwarder_ != nullptr) forwarder_->SetBackend(0);
  if (process_ != nullptr) {
    process_->Signal(SIGKILL);
    (void)process_->Wait(absl::Seconds(10));
  }
}

std::string NatsServer::url() const {
  return absl::StrCat("nats://127.0.0.1:", forwarder_->port());
}

absl::Status NatsServer::Stop(absl::Duration timeout) {
  if (process_ == nullptr) return absl::OkStatus();
  forwarder_->SetBackend(0);
  process_->Signal(SIGTERM);
  absl::StatusOr<int> code = process_->Wait(timeout);
  if (!code.ok()) return code.status();
  process_.reset();
  return absl::OkStatus();
}

absl::Status NatsServer::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  forwarder_->SetBackend(0);
  process_->Signal(SIGKILL);
  absl::StatusOr<int> code = process_->Wait(absl::Seconds(10));
  if (!code.ok()) return code.status();
  process_.reset();
  return absl::OkStatus();
}

absl::Status NatsServer::Restart(absl::Duration timeout) {
  if (process_ != nullptr) {
    return absl::FailedPreconditionError("nats-server is still running");
  }
  return Launch(timeout);
}

bool NatsServer::WaitForLog(const std::string& text, absl::Duration timeout) {
  return process_ != nullptr && process_->WaitForStderr(text, timeout);
}

}  // namespace hookstream::testing
