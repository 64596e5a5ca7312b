// Runs examples/python_subscriber/subscriber.py (code generated from protos/
// at test time) against an in-process DistributionServer with a real ring:
// subscribe, resume after an event id, a Gap read from the rich status
// details, and its exit codes. The e2e suite runs it against the real binary.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ring/event_ring.h"
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

const std::string kExampleDir =
    std::string(HOOKSTREAM_SOURCE_DIR) + "/examples/python_subscriber";

class PythonSubscriberTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const ProcessResult r =
        RunProcess({kExampleDir + "/generate.sh", GenDir()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Where the Python modules are generated, once for the suite.
  static std::string GenDir() { return ::testing::TempDir() + "/python_gen"; }

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
      v1::Event event;
      event.set_id(absl::StrCat("evt_", i));
      event.set_type(i % 2 == 0 ? "refund.created" : "customer.created");
      event.set_account("acm_1");
      ASSERT_TRUE(ring_->Append(std::move(event)).ok());
    }
  }

  ProcessResult Python(std::vector<std::string> args) {
    args.insert(
        args.begin(),
        {"/usr/bin/python3", kExampleDir + "/subscriber.py",
         absl::StrCat("--target=127.0.0.1:", server_->port()), "--timeout=30"});
    return RunProcess(args, 60,
                      "HOOKSTREAM_PY_GEN_DIR=" + testing::ShellQuote(GenDir()));
  }

  std::unique_ptr<::hookstream::testing::MemoryStore> ring_;
  std::unique_ptr<DistributionServer> server_;
};

// Verifies a subscription from the oldest prints one {"event":…} line per
// event in order, with a heartbeat first when asked, and exits 0.
TEST_F(PythonSubscriberTest, SubscribesFromTheOldest) {
  Start(100);
  Append(1, 4);
  const ProcessResult r =
      Python({"--from-oldest", "--max-events=4", "--heartbeats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 5u) << r.out;
  const nlohmann::json heartbeat = nlohmann::json::parse(lines[0]);
  ASSERT_TRUE(heartbeat.contains("heartbeat")) << lines[0];
  EXPECT_EQ(heartbeat["heartbeat"]["stream_epoch"],
            ring_->ring().stream_epoch());
  for (int i = 1; i <= 4; ++i) {
    const nlohmann::json e = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(e["event"]["id"], absl::StrCat("evt_", i));
    EXPECT_EQ(e["event"]["sequence"], absl::StrCat(i));
  }
}

// Verifies --after-event-id resumes right after that event, with a filter.
TEST_F(PythonSubscriberTest, ResumesAfterAnEventId) {
  Start(100);
  Append(1, 10);
  const ProcessResult r =
      Python({"--after-event-id=evt_5", "--types=refund.*", "--max-events=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 2u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.Lines()[0])["event"]["id"], "evt_6");
  EXPECT_EQ(nlohmann::json::parse(r.Lines()[1])["event"]["id"], "evt_8");
}

// Verifies an evicted position under the default policy prints the Gap
// decoded from grpc-status-details-bin and exits 3.
TEST_F(PythonSubscriberTest, ReadsTheGapFromTheRichStatusDetails) {
  Start(/*max_events=*/3);
  Append(1, 10);  // holds 8..10
  const ProcessResult r =
      Python({"--after-sequence=2", "--epoch", ring_->ring().stream_epoch()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  ASSERT_EQ(r.Lines().size(), 2u) << r.out;
  const nlohmann::json gap = nlohmann::json::parse(r.Lines()[0])["gap"];
  EXPECT_EQ(gap["requested_after_sequence"], "2");
  EXPECT_EQ(gap["oldest_sequence"], "8");
  EXPECT_EQ(gap["missed_count"], "5");
  EXPECT_EQ(gap["reason"], "GAP_REASON_EVICTED");
  const nlohmann::json error = nlohmann::json::parse(r.Lines()[1])["error"];
  EXPECT_EQ(error["code"], "OUT_OF_RANGE");
  EXPECT_EQ(error["gap"], gap);
}

// Verifies an epoch mismatch is FAILED_PRECONDITION with an EPOCH_CHANGED
// Gap (exit 3), and under --gap-policy resume a gap line then events.
TEST_F(PythonSubscriberTest, ReportsAnEpochMismatch) {
  Start(100);
  Append(1, 3);
  ProcessResult r = Python({"--after-sequence=2", "--epoch=old-epoch"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  ASSERT_GE(r.Lines().size(), 1u) << r.out;
  nlohmann::json gap = nlohmann::json::parse(r.Lines()[0])["gap"];
  EXPECT_EQ(gap["reason"], "GAP_REASON_EPOCH_CHANGED");
  EXPECT_EQ(gap["stream_epoch"], ring_->ring().stream_epoch());
  EXPECT_EQ(nlohmann::json::parse(r.Lines().back())["error"]["code"],
            "FAILED_PRECONDITION");

  r = Python({"--after-sequence=2", "--epoch=old-epoch", "--gap-policy=resume",
              "--max-events=3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 4u) << r.out;
  gap = nlohmann::json::parse(r.Lines()[0])["gap"];
  EXPECT_EQ(gap["reason"], "GAP_REASON_EPOCH_CHANGED");
  EXPECT_EQ(nlohmann::json::parse(r.Lines()[1])["event"]["id"], "evt_1");
}

// Verifies an unknown event id prints an error line with NOT_FOUND, exit 1.
TEST_F(PythonSubscriberTest, UnknownEventIdIsAnError) {
  Start(100);
  Append(1, 2);
  const ProcessResult r = Python({"--after-event-id=evt_nope"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ASSERT_EQ(r.Lines().size(), 1u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.Lines()[0])["error"]["code"], "NOT_FOUND");
}

}  // namespace
}  // namespace hookstream
