// Every seed delivery (tests/testdata/gettrx, copies of /shared/seed's
// events) posted signed to the real binary over TLS, read back with GetEvent
// and Subscribe, and compared with a golden textproto written by hand from
// the delivery and GETTRX's documentation (tests/testdata/gettrx/golden/).
// Unlike e2e_test's SeedEventsArriveTypedWithEveryField, which compares
// with what the converter makes of the same bytes, a golden does not move
// with the converter: a conversion change shows here as a diff to review.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "tests/e2e/e2e_support.h"

namespace hookstream {
namespace {

using testing::ReadFile;
using testing::Seed;
using testing::SubscribeRequest;
using testing::Subscription;

constexpr const char* kSamples[] = {"customer.created", "customer.updated",
                                    "customer.deleted", "refund.pending",
                                    "setup_request.succeeded"};

v1::Event Golden(const std::string& name) {
  const std::string text = ReadFile(absl::StrCat(
      HOOKSTREAM_TESTDATA_DIR, "/gettrx/golden/", name, ".textproto"));
  v1::Event event;
  EXPECT_FALSE(text.empty()) << name;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &event))
      << name;
  return event;
}

// `got` with what varies per run checked and cleared: its position (the
// stream's, given), its receive time, and the raw body (byte for byte).
v1::Event Normalized(v1::Event got, uint64_t sequence, const std::string& epoch,
                     const std::string& raw_json) {
  EXPECT_EQ(got.sequence(), sequence);
  EXPECT_EQ(got.stream_epoch(), epoch);
  EXPECT_TRUE(got.has_received_at());
  EXPECT_EQ(got.raw_json(), raw_json);
  got.clear_sequence();
  got.clear_stream_epoch();
  got.clear_received_at();
  got.clear_raw_json();
  return got;
}

void ExpectGolden(const v1::Event& want, const v1::Event& got) {
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  EXPECT_TRUE(diff.Compare(want, got)) << report << "\ngot:\n"
                                       << got.DebugString();
}

class SeedE2eTest : public testing::E2eFixture {};

// Verifies each seed delivery arrives as its golden event, through
// GetEvent (with raw_json) and through Subscribe (without, then with).
TEST_F(SeedE2eTest, EverySampleArrivesAsItsGolden) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::vector<std::string> bodies;
  for (const char* name : kSamples) {
    bodies.push_back(Seed(absl::StrCat(name, ".json")));
    const testing::HttpResult r = PostSigned(bodies.back());
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
  }

  for (size_t i = 0; i < std::size(kSamples); ++i) {
    SCOPED_TRACE(kSamples[i]);
    const v1::Event want = Golden(kSamples[i]);
    v1::GetEventRequest get;
    get.set_event_id(want.id());
    v1::GetEventResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    const grpc::Status s = stub_->GetEvent(&ctx, get, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ExpectGolden(want, Normalized(response.event(), i + 1,
                                  server_->stream_epoch(), bodies[i]));
  }

  for (const bool raw : {false, true}) {
    SCOPED_TRACE(raw ? "subscribe with raw_json" : "subscribe");
    SubscribeRequest request;
    request.set_origin(v1::ORIGIN_OLDEST);
    request.set_include_raw_json(raw);
    Subscription sub(*stub_, request);
    const std::vector<v1::Event> events = sub.ReadEvents(std::size(kSamples));
    ASSERT_EQ(events.size(), std::size(kSamples));
    for (size_t i = 0; i < events.size(); ++i) {
      SCOPED_TRACE(kSamples[i]);
      ExpectGolden(Golden(kSamples[i]),
                   Normalized(events[i], i + 1, server_->stream_epoch(),
                              raw ? bodies[i] : ""));
    }
    sub.Cancel();
  }
}

}  // namespace
}  // namespace hookstream
