#include "common/store/stored_event.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;

v1::Event RichEvent(bool with_raw_json = true) {
  v1::Event event;
  event.set_id("evt_1");
  event.set_type("customer.updated");
  event.set_account("acm_9");
  event.set_attempt_id("wha_1");
  event.mutable_received_at()->set_seconds(1'733'267'345);
  event.mutable_customer()->set_email("a@example.com");
  (*event.mutable_previous_attributes()->mutable_fields())["name"]
      .set_string_value("Old");
  if (with_raw_json) event.set_raw_json(R"({"id":"evt_1","x":[1,2]})");
  return event;
}

StoredEvent Encoded(v1::Event event, absl::string_view epoch,
                    uint64_t sequence) {
  StoredEvent stored;
  stored.Encode(event, epoch);
  stored.SetSequence(sequence);
  return stored;
}

std::string Logged(const StoredEvent& e) {
  return absl::StrCat(e.RawJsonField(), e.Fields());
}

// Verifies that the logged form rebuilds exactly the encoded bytes, with and
// without raw JSON, and that every view points into the rebuilt bytes.
TEST(StoredEventTest, FromLoggedRebuildsTheSameBytes) {
  for (bool with_raw : {true, false}) {
    const StoredEvent original = Encoded(RichEvent(with_raw), "ep-1", 300);
    const absl::Time log_time = absl::FromUnixSeconds(1'800'000'000);
    absl::StatusOr<StoredEvent> rebuilt =
        StoredEvent::FromLogged(Logged(original), "ep-1", 300, log_time);
    ASSERT_THAT(rebuilt, IsOk());
    EXPECT_EQ(rebuilt->WithRawJson(), original.WithRawJson());
    EXPECT_EQ(rebuilt->WithoutRawJson(), original.WithoutRawJson());
    EXPECT_EQ(rebuilt->Fields(), original.Fields());
    EXPECT_EQ(rebuilt->sequence, 300u);
    EXPECT_EQ(rebuilt->log_time, log_time);
    EXPECT_EQ(rebuilt->id, "evt_1");
    EXPECT_EQ(rebuilt->type, "customer.updated");
    EXPECT_EQ(rebuilt->account, "acm_9");
    const absl::string_view bytes = rebuilt->WithRawJson();
    EXPECT_GE(rebuilt->id.data(), bytes.data());
    EXPECT_LE(rebuilt->id.data() + rebuilt->id.size(),
              bytes.data() + bytes.size());
    EXPECT_EQ(rebuilt->RawJson(), with_raw ? RichEvent().raw_json() : "");
  }
}

// Verifies that the logged form carries neither epoch nor sequence, so a
// rebuild in another epoch is the same event in that epoch.
TEST(StoredEventTest, FromLoggedRestampsTheEpoch) {
  const StoredEvent original = Encoded(RichEvent(), "old-epoch", 7);
  EXPECT_THAT(Logged(original), ::testing::Not(::testing::HasSubstr("old-")));
  absl::StatusOr<StoredEvent> rebuilt = StoredEvent::FromLogged(
      Logged(original), "20261202T000000Z-0123456789abcdef", 9,
      absl::UnixEpoch());
  ASSERT_THAT(rebuilt, IsOk());
  v1::Event expected = RichEvent();
  expected.set_sequence(9);
  expected.set_stream_epoch("20261202T000000Z-0123456789abcdef");
  EXPECT_TRUE(MessageDifferencer::Equals(rebuilt->ToEvent(true), expected))
      << rebuilt->ToEvent(true).DebugString();
}

// Verifies that fixed-width fields (unknown to Event, e.g. from a newer
// writer) are walked over, and the indexed fields still found.
TEST(StoredEventTest, FromLoggedWalksFixedWidthFields) {
  std::string logged;
  logged += std::string("\x19", 1) + std::string(8, '\x01');  // 3: fixed64
  logged += std::string("\x25", 1) + std::string(4, '\x02');  // 4: fixed32
  logged +=
      "\x1a\x05"
      "evt_9";  // id
  absl::StatusOr<StoredEvent> e =
      StoredEvent::FromLogged(logged, "ep", 1, absl::UnixEpoch());
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->id, "evt_9");
}

// Verifies that malformed logged bytes are DATA_LOSS, never read out of
// bounds: truncated varints, lengths past the end, truncated fixed fields,
// groups, field number 0, no id.
TEST(StoredEventTest, FromLoggedRefusesMalformedBytes) {
  const std::string id =
      "\x1a\x05"
      "evt_1";
  for (const std::string& bad : {
           std::string("\x80", 1),  // truncated tag
           id + "\x22\x10"
                "short",                         // length past the end
           id + std::string("\x19\x01\x02", 3),  // truncated fixed64
           id + std::string("\x25\x01", 2),      // truncated fixed32
           id + std::string("\x1b", 1),          // start group
           std::string("\x02\x01x", 3) + id,     // field number 0
           std::string("\xa2\x06\x10{}", 5),     // raw_json past the end
           std::string("\x22\x04type", 6),       // no id
       }) {
    EXPECT_THAT(StoredEvent::FromLogged(bad, "ep", 1, absl::UnixEpoch()),
                StatusIs(absl::StatusCode::kDataLoss))
        << absl::CEscape(bad);
  }
}

// Verifies copies own their bytes (views re-pointed) and moves keep them.
TEST(StoredEventTest, CopiesAndMovesKeepTheViewsValid) {
  StoredEvent original = Encoded(RichEvent(), "ep", 5);
  original.log_time = absl::FromUnixSeconds(42);
  const StoredEvent copy = original;
  EXPECT_NE(copy.WithRawJson().data(), original.WithRawJson().data());
  EXPECT_EQ(copy.WithRawJson(), original.WithRawJson());
  EXPECT_EQ(copy.Fields(), original.Fields());
  EXPECT_EQ(copy.id, "evt_1");
  EXPECT_NE(copy.id.data(), original.id.data());
  EXPECT_EQ(copy.log_time, absl::FromUnixSeconds(42));
  const char* bytes = original.WithRawJson().data();
  const StoredEvent moved = std::move(original);
  EXPECT_EQ(moved.WithRawJson().data(), bytes);
  EXPECT_EQ(moved.account, "acm_9");
  EXPECT_EQ(moved.Fields(), copy.Fields());
}

// Regression inputs the fuzzer found (tests/fuzz/regressions/
// stored_event_fuzzer): whatever FromLogged accepts must read back as an
// Event with its id and the sequence it was given, also when its nested
// fields do not parse (crash-038c…: a malformed nested message; ToEvent
// returned an empty event, sequence 0).
TEST(StoredEventTest, FuzzRegressionsReadBackWithTheirSequence) {
  const std::filesystem::path dir =
      std::filesystem::path(HOOKSTREAM_SOURCE_DIR) /
      "tests/fuzz/regressions/stored_event_fuzzer";
  int inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    ++inputs;
    absl::StatusOr<StoredEvent> stored = StoredEvent::FromLogged(
        s.str(), "epoch-fuzz", 7, absl::FromUnixSeconds(1));
    if (!stored.ok()) {
      EXPECT_TRUE(absl::IsDataLoss(stored.status())) << stored.status();
      continue;
    }
    const v1::Event read = stored->ToEvent(true);
    EXPECT_EQ(read.sequence(), 7u) << entry.path();
    EXPECT_EQ(read.id(), stored->id) << entry.path();
  }
  EXPECT_GT(inputs, 0);
}

}  // namespace
}  // namespace hookstream
