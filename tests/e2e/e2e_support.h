// Shared by the end-to-end tests: the seed events, signing, and a fixture
// that runs the real hookstream-server binary (ServerProcess) in a fresh
// temporary directory, with an HTTPS client and a gRPC stub on it.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/signature/crypto.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/https_client.h"
#include "tests/testing/process_runner.h"

namespace hookstream::testing {

using v1::EventStream;
using v1::SubscribeRequest;
using v1::SubscribeResponse;

inline constexpr char kSecret[] = "e2e-secret-0123456789abcdef";

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The sample `series` (name with its labels, exactly as written) of a
// Prometheus exposition, or -1 when it is absent.
inline double MetricValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
      double v = 0;
      if (absl::SimpleAtod(line, &v)) return v;
    }
  }
  return -1;
}

// `promtool check metrics` on `text` (written to `dir`/scrape.txt), its exit
// status checked; returns what it printed ("" when it has nothing to say).
inline std::string PromtoolCheck(const std::string& promtool,
                                 const std::string& dir,
                                 const std::string& text) {
  const std::string file = dir + "/scrape.txt";
  std::ofstream(file, std::ios::trunc) << text;
  const testing::ProcessResult r = testing::RunProcess(
      {"/bin/sh", "-c", absl::StrCat(promtool, " check metrics < ", file)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.out + r.err;
}

inline std::string Seed(const std::string& name) {
  return ReadFile(absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/", name));
}

// The customer.created seed with its event id replaced, so each is new.
inline std::string UniqueEvent(const std::string& seed, uint64_t n) {
  return absl::StrReplaceAll(
      seed, {{"evt_674f8f91778c0c7274a6636c", absl::StrCat("evt_e2e_", n)}});
}

// VmRSS of a process, in bytes (0 if unreadable).
inline uint64_t RssBytes(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    uint64_t kib = 0;
    if (line.rfind("VmRSS:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(
                             absl::StripPrefix(line, "VmRSS:"), "kB")),
                         &kib)) {
      return kib * 1024;
    }
  }
  return 0;
}

inline std::string Signature(absl::string_view body,
                             absl::string_view secret = kSecret) {
  return EncodeHex(HmacSha256(secret, body));
}

// Every event `stub`'s server holds, in order (ListEvents, paged). A failed
// page fails the test and ends the list.
inline std::vector<v1::Event> ListAllEvents(EventStream::Stub& stub,
                                            bool include_raw_json = false) {
  std::vector<v1::Event> all;
  uint64_t after = 0;
  for (;;) {
    v1::ListEventsRequest request;
    request.set_after_sequence(after);
    request.set_page_size(1000);
    request.set_include_raw_json(include_raw_json);
    v1::ListEventsResponse page;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    const grpc::Status s = stub.ListEvents(&ctx, request, &page);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    for (v1::Event& e : *page.mutable_events()) all.push_back(std::move(e));
    if (page.events().empty() || page.next_after_sequence() == after) break;
    after = page.next_after_sequence();
  }
  return all;
}

class E2eFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    CurlGlobalInit();
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "hookstream-e2e-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
#if defined(__SANITIZE_ADDRESS__)  // gcc's -fsanitize=address
    // LeakSanitizer reports at exit: stop the server with SIGTERM, as an
    // operator would, instead of the destructor's SIGKILL.
    if (server_ != nullptr && server_->running()) server_->Stop().IgnoreError();
#endif
    // A sanitizer report in the server (any start in this test: the log is
    // appended to) fails the test that caused it.
    const std::string log = ReadFile(dir_ + "/server.log");
    for (const char* marker :
         {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
          "runtime error:", "WARNING: ThreadSanitizer"}) {
      const size_t at = log.find(marker);
      if (at != std::string::npos) {
        ADD_FAILURE() << "hookstream-server reported \"" << marker << "\":\n"
                      << log.substr(at > 200 ? at - 200 : 0, 6000);
      }
    }
    if (!HasFailure() && getenv("HOOKSTREAM_KEEP_E2E") == nullptr) {
      std::filesystem::remove_all(dir_);
    }
  }

  // Starts the real binary in dir_ (ephemeral ports unless `flags` name
  // them), optionally under `wrapper` (e.g. strace for fault injection).
  void StartServer(std::vector<std::string> flags = {},
                   std::vector<std::string> wrapper = {}) {
    std::vector<std::string> backend = BackendFlags();
    if (::testing::Test::HasFatalFailure()) return;
    flags.insert(flags.begin(), backend.begin(), backend.end());
    absl::StatusOr<ServerProcess> p = ServerProcess::Start(
        dir_, {.flags = std::move(flags), .wrapper = std::move(wrapper)});
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = std::make_unique<ServerProcess>(*std::move(p));
    channel_ = grpc::CreateChannel(server_->grpc_target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = EventStream::NewStub(channel_);
    https_ = std::make_unique<HttpsClient>(server_->ca_file(),
                                           server_->ingress_port());
  }

  // The flags that choose the backend (none: the default, memory); a
  // fixture parametrized over backends overrides it.
  virtual std::vector<std::string> BackendFlags() { return {}; }

  HttpResult Post(const std::string& body, const std::string& signature) {
    return https_->Post("/v1/webhooks/gettrx", body,
                        {"x-webhook-signature: " + signature});
  }
  HttpResult PostSigned(const std::string& body) {
    return Post(body, Signature(body));
  }

  v1::GetStreamInfoResponse Info() {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStreamInfoResponse info;
    EXPECT_TRUE(stub_->GetStreamInfo(&ctx, {}, &info).ok());
    return info;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<EventStream::Stub> stub_;
  std::unique_ptr<HttpsClient> https_;
};

// A subscription with a bounded deadline, read message by message.
class Subscription {
 public:
  Subscription(EventStream::Stub& stub, const SubscribeRequest& request) {
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    reader_ = stub.Subscribe(&ctx_, request);
  }
  bool Read(SubscribeResponse* response) { return reader_->Read(response); }
  // Reads until `n` events have arrived; heartbeats are skipped, anything
  // else fails the test.
  std::vector<v1::Event> ReadEvents(size_t n) {
    std::vector<v1::Event> events;
    SubscribeResponse r;
    while (events.size() < n && reader_->Read(&r)) {
      if (r.has_events()) {
        for (const v1::Event& e : r.events().events()) events.push_back(e);
      } else {
        EXPECT_TRUE(r.has_heartbeat()) << r.DebugString();
      }
    }
    return events;
  }
  grpc::Status Finish() { return reader_->Finish(); }
  void Cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<SubscribeResponse>> reader_;
};

}  // namespace hookstream::testing
