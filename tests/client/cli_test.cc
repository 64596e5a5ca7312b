// Runs the real `hookstream` binary against an in-process DistributionServer
// with a real ring: what a user types, what they see, and the exit codes.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ring/event_ring.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/distribution/distribution_server.h"
#include "tests/testing/memory_store.h"
#include "tests/testing/process_runner.h"

namespace hookstream {
namespace {

using ::hookstream::distribution::DistributionServer;
using ::hookstream::testing::ProcessResult;
using ::hookstream::testing::RunProcess;
using ::testing::HasSubstr;

v1::Event MakeEvent(int n, const std::string& type) {
  v1::Event event;
  event.set_id(absl::StrCat("evt_", n));
  event.set_type(type);
  event.set_account(n % 2 == 0 ? "acm_even" : "acm_odd");
  event.set_raw_json(absl::StrCat(R"({"id":"evt_)", n, R"("})"));
  return event;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(1000); }

  void Start(size_t max_events) {
    server_.reset();
    EventRing::Options options;
    options.max_events = max_events;
    ring_ = std::make_unique<::hookstream::testing::MemoryStore>(options,
                                                                 RealClock());
    absl::StatusOr<std::unique_ptr<DistributionServer>> server =
        DistributionServer::Start(
            {.address = "127.0.0.1:0", .credentials = nullptr}, ring_->ring(),
            RealClock());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void Append(int first, int last) {
    for (int i = first; i <= last; ++i) {
      ASSERT_TRUE(ring_
                      ->Append(MakeEvent(i, i % 3 == 0 ? "refund.created"
                                                       : "customer.created"))
                      .ok());
    }
  }

  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), HOOKSTREAM_CLI_PATH);
    args.push_back(absl::StrCat("--target=127.0.0.1:", server_->port()));
    return RunProcess(args);
  }

  std::unique_ptr<::hookstream::testing::MemoryStore> ring_;
  std::unique_ptr<DistributionServer> server_;
};

// Verifies `info` prints GetStreamInfo as one JSON object, zeros included.
TEST_F(CliTest, InfoPrintsTheStreamState) {
  Append(1, 4);
  const ProcessResult r = Cli({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["stream_epoch"], ring_->ring().stream_epoch());
  EXPECT_EQ(info["head_sequence"], "4");
  EXPECT_EQ(info["oldest_sequence"], "1");
  EXPECT_EQ(info["event_count"], "4");
  EXPECT_TRUE(info.contains("subscriber_count"));
}

// Verifies `get` by sequence and by id prints the event with its raw JSON,
// and an unknown id exits 1 naming NOT_FOUND.
TEST_F(CliTest, GetPrintsOneEvent) {
  Append(1, 5);
  ProcessResult r = Cli({"get", "--seq", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json event = nlohmann::json::parse(r.out);
  EXPECT_EQ(event["id"], "evt_3");
  EXPECT_EQ(event["sequence"], "3");
  EXPECT_TRUE(event.contains("raw_json"));

  r = Cli({"get", "--id=evt_4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  event = nlohmann::json::parse(r.out);
  EXPECT_EQ(event["sequence"], "4");

  r = Cli({"get", "--id=evt_nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  r = Cli({"get"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("exactly one of --seq N or --id"));
}

// Verifies `tail --from oldest --max_events` prints one JSON event per line
// in order and exits 0; the filter flags are applied.
TEST_F(CliTest, TailPrintsEventsAsJsonLines) {
  Append(1, 9);
  ProcessResult r = Cli({"tail", "--from", "oldest", "--max_events", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const nlohmann::json e = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(e["id"], absl::StrCat("evt_", i + 1));
    EXPECT_FALSE(e.contains("raw_json"));
  }

  r = Cli({"tail", "--from=seq:1", "--types=refund.*", "--accounts=acm_even",
           "--raw", "--max_events=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = r.Lines();
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json e = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(e["id"], "evt_6");  // the first refund on an even account
  EXPECT_TRUE(e.contains("raw_json"));

  r = Cli({"tail", "--from=id:evt_8", "--max_events=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.Lines().at(0))["id"], "evt_9");
}

// Verifies tail's errors: a bad --from is a usage error (2), an unknown
// event id ends with 1, and evicted events end with a gap line and 3.
TEST_F(CliTest, TailExitCodes) {
  ProcessResult r = Cli({"tail", "--from=yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("expected oldest, latest"));

  r = Cli({"tail", "--from=id:evt_nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  Start(/*max_events=*/3);
  Append(1, 10);  // holds 8..10
  r = Cli({"tail", "--from=seq:2@" + ring_->ring().stream_epoch()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  ASSERT_EQ(r.Lines().size(), 1u) << r.out;
  const nlohmann::json gap = nlohmann::json::parse(r.Lines()[0])["gap"];
  EXPECT_EQ(gap["oldest_sequence"], "8");
  EXPECT_EQ(gap["missed_count"], "5");
  EXPECT_EQ(gap["reason"], "GAP_REASON_EVICTED");
  EXPECT_THAT(r.err, HasSubstr("evicted"));

  r = Cli({"tail", "--from=seq:2", "--gap_policy=resume", "--max_events=3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 4u) << r.out;
  EXPECT_TRUE(nlohmann::json::parse(r.Lines()[0]).contains("gap"));
  EXPECT_EQ(nlohmann::json::parse(r.Lines()[1])["id"], "evt_8");
}

// Verifies an unknown command and an unreachable server are reported.
TEST_F(CliTest, UsageAndUnreachableServer) {
  ProcessResult r = RunProcess({HOOKSTREAM_CLI_PATH, "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'frobnicate'"));
  r = RunProcess({HOOKSTREAM_CLI_PATH});
  EXPECT_EQ(r.exit_code, 2);
  r = RunProcess({HOOKSTREAM_CLI_PATH, "info", "--target=127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
}

// Verifies `send`'s errors: no file is a usage error (2); an unreadable
// secret file, a missing body file and an unreachable ingress each exit 1
// with a message naming the cause (the success path is covered end to end
// against the real server in tests/e2e).
TEST_F(CliTest, SendReportsItsErrors) {
  const std::string dir = ::testing::TempDir();
  const std::string secret_file = dir + "/send_test_secret";
  const std::string body_file = dir + "/send_test_body.json";
  {
    std::ofstream(secret_file) << "label1:0123456789abcdef\n";
    std::ofstream(body_file) << R"({"id":"evt_1"})";
  }
  ProcessResult r = RunProcess({HOOKSTREAM_CLI_PATH, "send"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("give one or more files"));

  r = RunProcess({HOOKSTREAM_CLI_PATH, "send",
                  "--secret_file=" + dir + "/no_such_secret", body_file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  r = RunProcess({HOOKSTREAM_CLI_PATH, "send", "--secret_file=" + secret_file,
                  "--url=https://127.0.0.1:1/v1/webhooks/gettrx",
                  "--cacert=", dir + "/no_such_body.json", body_file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot read"));
  EXPECT_THAT(r.err, HasSubstr("POST https://127.0.0.1:1/v1/webhooks/gettrx"));
}

}  // namespace
}  // namespace hookstream
