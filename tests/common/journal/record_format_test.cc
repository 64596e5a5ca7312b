#include "common/journal/record_format.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::journal {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

absl::Time T(int s) { return absl::FromUnixSeconds(1'800'000'000 + s); }

SegmentHeader Header(uint64_t first = 10) {
  return {.first_sequence = first,
          .created = T(1),
          .epoch = "20261202T000000Z-0123456789abcdef",
          .epoch_start = T(-100)};
}

// A segment starting at 10 with records 10..10+n-1, payloads of `size`.
std::string Segment(int n, size_t size = 100) {
  std::string s = EncodeSegmentHeader(Header());
  for (int i = 0; i < n; ++i) {
    AppendRecord(10 + i, T(i), std::string(size / 2, 'a' + i % 26),
                 std::string(size - size / 2, 'z'), s);
  }
  return s;
}

TEST(SegmentHeaderTest, RoundTripsAndRefusesDamage) {
  const std::string bytes = EncodeSegmentHeader(Header());
  ASSERT_EQ(bytes.size(), kSegmentHeaderSize);
  absl::StatusOr<SegmentHeader> h = DecodeSegmentHeader(bytes);
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ(h->first_sequence, 10u);
  EXPECT_EQ(h->created, T(1));
  EXPECT_EQ(h->epoch, Header().epoch);
  EXPECT_EQ(h->epoch_start, T(-100));

  EXPECT_THAT(DecodeSegmentHeader(bytes.substr(0, 100)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("100 bytes")));
  std::string flipped = bytes;
  flipped[50] ^= 1;
  EXPECT_THAT(DecodeSegmentHeader(flipped),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum")));
  std::string magic = bytes;
  magic[0] = 'X';
  EXPECT_THAT(DecodeSegmentHeader(magic),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));
}

TEST(RecordTest, RoundTripsAndDetectsDamageAndTruncation) {
  std::string bytes;
  AppendRecord(42, T(5), "hello ", "world", bytes);
  ASSERT_EQ(bytes.size(), kRecordHeaderSize + 11);
  Record r;
  ASSERT_EQ(DecodeRecord(bytes, r), DecodeResult::kOk);
  EXPECT_EQ(r.sequence, 42u);
  EXPECT_EQ(r.log_time, T(5));
  EXPECT_EQ(r.payload, "hello world");
  EXPECT_EQ(r.size, bytes.size());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_EQ(DecodeRecord(bytes.substr(0, cut), r), DecodeResult::kTruncated)
        << cut;
  }
  // Every byte, the length included, is covered by the checksum.
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i >= 4 && i < 8) continue;  // the checksum itself
    std::string flipped = bytes;
    flipped[i] ^= 0x10;
    EXPECT_NE(DecodeRecord(flipped, r), DecodeResult::kOk) << i;
  }
}

TEST(ScanSegmentTest, CleanSegment) {
  const std::string bytes = Segment(50);
  absl::StatusOr<SegmentScan> scan = ScanSegment(bytes);
  ASSERT_THAT(scan, IsOk());
  ASSERT_EQ(scan->records.size(), 50u);
  EXPECT_EQ(scan->records.front().sequence, 10u);
  EXPECT_EQ(scan->records.back().sequence, 59u);
  EXPECT_EQ(scan->valid_end, bytes.size());
  EXPECT_EQ(scan->torn_bytes, 0u);
  EXPECT_TRUE(scan->damage.empty());
}

// Verifies that a cut anywhere, with or without garbage after it, is a torn
// tail: the records before the cut are kept, nothing is "damage".
TEST(ScanSegmentTest, TruncationAndGarbageAreATornTail) {
  const std::string full = Segment(20);
  const size_t record = kRecordHeaderSize + 100;
  for (size_t cut = kSegmentHeaderSize; cut <= full.size(); cut += 37) {
    for (const std::string& garbage :
         {std::string(), std::string("\x07garbage\xff", 9),
          std::string(5000, '\x5a')}) {
      const std::string bytes = full.substr(0, cut) + garbage;
      absl::StatusOr<SegmentScan> scan = ScanSegment(bytes);
      ASSERT_THAT(scan, IsOk());
      const size_t whole = (cut - kSegmentHeaderSize) / record;
      EXPECT_EQ(scan->records.size(), whole) << cut;
      EXPECT_EQ(scan->valid_end, kSegmentHeaderSize + whole * record);
      // Up to the last non-zero byte: zeros a cut header ends with are
      // indistinguishable from preallocated space.
      const size_t end =
          std::max(bytes.find_last_not_of('\0') + 1, scan->valid_end);
      EXPECT_EQ(scan->torn_bytes, end - scan->valid_end) << cut;
      EXPECT_EQ(scan->data_end, end) << cut;
      EXPECT_TRUE(scan->damage.empty()) << cut;
    }
  }
}

// Verifies that zeros after the last record (space preallocated and not
// written yet) are the log's end: neither torn nor damage, not scanned as
// records; and that a torn write into that space is a torn tail of exactly
// its own bytes.
TEST(ScanSegmentTest, ZeroFilledSpaceAfterTheRecordsIsTheEnd) {
  const std::string records = Segment(20);
  const std::string bytes = records + std::string(1 << 20, '\0');
  absl::StatusOr<SegmentScan> scan = ScanSegment(bytes);
  ASSERT_THAT(scan, IsOk());
  EXPECT_EQ(scan->records.size(), 20u);
  EXPECT_EQ(scan->valid_end, records.size());
  EXPECT_EQ(scan->data_end, records.size());
  EXPECT_EQ(scan->torn_bytes, 0u);
  EXPECT_TRUE(scan->damage.empty());

  // No record yet: the header, then zeros.
  const std::string empty =
      EncodeSegmentHeader(Header()) + std::string(4096, '\0');
  scan = ScanSegment(empty);
  ASSERT_THAT(scan, IsOk());
  EXPECT_TRUE(scan->records.empty());
  EXPECT_EQ(scan->data_end, kSegmentHeaderSize);
  EXPECT_EQ(scan->torn_bytes, 0u);

  std::string torn = bytes;
  const std::string partial = std::string(150, '\x42');
  torn.replace(records.size(), partial.size(), partial);
  scan = ScanSegment(torn);
  ASSERT_THAT(scan, IsOk());
  EXPECT_EQ(scan->records.size(), 20u);
  EXPECT_EQ(scan->valid_end, records.size());
  EXPECT_EQ(scan->torn_bytes, partial.size());
  EXPECT_TRUE(scan->damage.empty());
}

// Verifies that a flipped byte in the middle is damage (valid records follow)
// naming the offset, and that the scan resumes at the next record.
TEST(ScanSegmentTest, FlippedByteIsDamageWithResume) {
  std::string bytes = Segment(20);
  const size_t record = kRecordHeaderSize + 100;
  const size_t fifth = kSegmentHeaderSize + 5 * record;
  bytes[fifth + 60] ^= 0x01;
  absl::StatusOr<SegmentScan> scan = ScanSegment(bytes);
  ASSERT_THAT(scan, IsOk());
  ASSERT_EQ(scan->damage.size(), 1u);
  EXPECT_EQ(scan->damage[0].offset, fifth);
  EXPECT_EQ(scan->damage[0].resume_offset, fifth + record);
  EXPECT_EQ(scan->damage[0].reason, "checksum mismatch");
  EXPECT_FALSE(scan->damage[0].zero_page);
  EXPECT_EQ(scan->records.size(), 19u);  // all but the damaged one
  EXPECT_EQ(scan->torn_bytes, 0u);
  // A damaged length is caught too, and resynchronized past.
  bytes = Segment(20);
  bytes[fifth] ^= 0x40;
  scan = ScanSegment(bytes);
  ASSERT_THAT(scan, IsOk());
  ASSERT_EQ(scan->damage.size(), 1u);
  EXPECT_EQ(scan->damage[0].offset, fifth);
  EXPECT_EQ(scan->records.size(), 19u);
}

// Verifies that a stretch holding a whole zero page (an unfinished write
// whose later pages reached the disk) is flagged as such.
TEST(ScanSegmentTest, ZeroPageInsideDamageIsFlagged) {
  std::string bytes = Segment(100, 200);  // ~22 KB
  const size_t start = 2 * kTornPageSize + 11;
  for (size_t i = start; i < start + 2 * kTornPageSize; ++i) bytes[i] = 0;
  absl::StatusOr<SegmentScan> scan = ScanSegment(bytes);
  ASSERT_THAT(scan, IsOk());
  ASSERT_EQ(scan->damage.size(), 1u);
  EXPECT_TRUE(scan->damage[0].zero_page);
  EXPECT_LE(scan->damage[0].offset, start);
}

// Verifies that a sequence that does not increase is damage.
TEST(ScanSegmentTest, SequenceMustIncrease) {
  std::string bytes = EncodeSegmentHeader(Header());
  AppendRecord(10, T(0), "a", "", bytes);
  AppendRecord(11, T(0), "b", "", bytes);
  AppendRecord(11, T(0), "c", "", bytes);
  AppendRecord(12, T(0), "d", "", bytes);
  absl::StatusOr<SegmentScan> scan = ScanSegment(bytes);
  ASSERT_THAT(scan, IsOk());
  ASSERT_EQ(scan->damage.size(), 1u);
  EXPECT_EQ(scan->damage[0].reason, "sequence 11 after 11");
  EXPECT_EQ(scan->records.size(), 3u);
}

TEST(ScanSegmentTest, BadHeaderIsAnError) {
  std::string bytes = Segment(3);
  bytes[20] ^= 1;
  EXPECT_THAT(ScanSegment(bytes), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace hookstream::journal
