// The journal on real files in a temporary directory: durability before
// completion, recovery of identity, ring and dedup, torn tails, damage and
// repair, the epoch rule, retention with carried-over ids. Crashes are
// simulated by copying the directory while the journal is open (what a
// kill -9 leaves), power loss by damaging the copy's tail.
#include "common/journal/journal.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/base/thread_deferral.h"
#include "common/journal/file_util.h"
#include "common/journal/journal_state.h"
#include "common/journal/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::journal {
namespace {

namespace fs = std::filesystem;
using ::hookstream::testing::FakeClock;
using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

v1::Event MakeEvent(const std::string& id, absl::Time received_at,
                    size_t raw_size = 200) {
  v1::Event event;
  event.set_id(id);
  event.set_type("customer.created");
  event.set_account("acm_1");
  *event.mutable_received_at() = ToProtoTimestamp(received_at);
  event.set_raw_json(absl::StrCat(R"({"id":")", id, R"(","pad":")",
                                  std::string(raw_size, 'p'), R"("})"));
  return event;
}

// Appends and waits (bounded) for the completion.
absl::StatusOr<AppendResult> AppendAndWait(Journal& journal, v1::Event event) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<AppendResult>>>();
  std::future<absl::StatusOr<AppendResult>> future = promise->get_future();
  journal.Append(std::move(event), [promise](absl::StatusOr<AppendResult> r) {
    promise->set_value(std::move(r));
  });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return absl::DeadlineExceededError("no completion within 30 s");
  }
  return future.get();
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::path(::testing::TempDir()) /
        absl::StrCat(
            "journal_test_", ::getpid(), "_",
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  JournalOptions Options(const std::string& dir = "j") {
    JournalOptions o;
    o.dir = (root_ / dir).string();
    o.segment_bytes = 64 << 10;
    o.retention_interval = absl::Hours(1);  // tests run it themselves
    o.ring = {.max_events = 10'000, .max_bytes = 64 << 20};
    return o;
  }

  std::unique_ptr<Journal> MustOpen(JournalOptions options) {
    absl::StatusOr<std::unique_ptr<Journal>> j =
        Journal::Open(std::move(options), clock_,
                      [this](absl::Status s) { fatal_ = std::move(s); });
    EXPECT_THAT(j, IsOk());
    return j.ok() ? *std::move(j) : nullptr;
  }

  // Appends evt_<first>..evt_<last>; returns their sequences.
  std::vector<uint64_t> AppendRange(Journal& j, int first, int last,
                                    size_t raw_size = 200) {
    std::vector<uint64_t> sequences;
    for (int i = first; i <= last; ++i) {
      absl::StatusOr<AppendResult> r = AppendAndWait(
          j, MakeEvent(absl::StrCat("evt_", i), clock_.Now(), raw_size));
      EXPECT_THAT(r, IsOk());
      if (!r.ok()) break;
      EXPECT_FALSE(r->duplicate);
      sequences.push_back(r->sequence);
    }
    return sequences;
  }

  // What a kill -9 leaves: the directory as it is now, the journal open.
  std::string CrashImage(const std::string& from, const std::string& to) {
    fs::copy(root_ / from, root_ / to, fs::copy_options::recursive);
    return (root_ / to).string();
  }

  std::vector<std::string> Files(const std::string& dir, const char* suffix) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root_ / dir)) {
      if (e.path().extension() == suffix) {
        names.push_back(e.path().filename());
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  fs::path root_;
  absl::Status fatal_;
};

// Verifies a new journal: sequences from 1, each event visible in the ring
// when its completion runs (applied only once durable), on disk in a
// segment, and the identity in STATE.
TEST_F(JournalTest, NewJournalCompletesAfterTheEventIsDurable) {
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  EXPECT_TRUE(j->recovery().created);
  for (uint64_t i = 1; i <= 3; ++i) {
    auto done = std::make_shared<std::promise<bool>>();
    j->Append(MakeEvent(absl::StrCat("evt_", i), clock_.Now()),
              [&, done, i](absl::StatusOr<AppendResult> r) {
                done->set_value(r.ok() && r->sequence == i &&
                                j->ring().Get(i) != nullptr);
              });
    auto f = done->get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_TRUE(f.get()) << i;
  }
  EXPECT_EQ(j->stats().records_written.load(), 3u);
  EXPECT_GE(j->stats().fsyncs.load(), 1u);
  EXPECT_THAT(Files("j", ".seg"), SizeIs(1));
  absl::StatusOr<std::string> state =
      ReadWholeFile((root_ / "j" / kStateFileName).string());
  ASSERT_THAT(state, IsOk());
  absl::StatusOr<JournalState> decoded = DecodeJournalState(*state);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->epoch, j->identity().epoch);
  EXPECT_FALSE(decoded->clean);
  j->Close();
  decoded = DecodeJournalState(
      *ReadWholeFile((root_ / "j" / kStateFileName).string()));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_TRUE(decoded->clean);
}

// Verifies a clean restart restores the identity, every event byte for
// byte, the head, and the dedup index; the next event continues the
// sequence.
TEST_F(JournalTest, ReopenRestoresIdentityEventsAndDedup) {
  std::string epoch;
  std::vector<std::string> bytes;
  {
    std::unique_ptr<Journal> j = MustOpen(Options());
    ASSERT_NE(j, nullptr);
    epoch = j->identity().epoch;
    AppendRange(*j, 1, 40);
    for (uint64_t s = 1; s <= 40; ++s) {
      bytes.emplace_back(j->ring().Get(s)->WithRawJson());
    }
  }
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  EXPECT_FALSE(j->recovery().created);
  EXPECT_FALSE(j->recovery().epoch_changed);
  EXPECT_EQ(j->recovery().records, 40u);
  EXPECT_EQ(j->identity().epoch, epoch);
  EXPECT_EQ(j->ring().GetInfo().head_sequence, 40u);
  for (uint64_t s = 1; s <= 40; ++s) {
    ASSERT_NE(j->ring().Get(s), nullptr);
    EXPECT_EQ(j->ring().Get(s)->WithRawJson(), bytes[s - 1]) << s;
  }
  absl::StatusOr<AppendResult> retry =
      AppendAndWait(*j, MakeEvent("evt_17", clock_.Now()));
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->sequence, 17u);
  EXPECT_EQ(AppendRange(*j, 41, 41), std::vector<uint64_t>{41});
}

// Verifies what a kill -9 leaves (STATE unclean, fsync mode) keeps the
// epoch and every acknowledged event.
TEST_F(JournalTest, CrashUnderFsyncKeepsTheEpoch) {
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  AppendRange(*j, 1, 10);
  const std::string image = CrashImage("j", "crash");
  JournalOptions o = Options("crash");
  std::unique_ptr<Journal> restored = MustOpen(o);
  ASSERT_NE(restored, nullptr);
  EXPECT_FALSE(restored->recovery().epoch_changed);
  EXPECT_EQ(restored->identity().epoch, j->identity().epoch);
  EXPECT_EQ(restored->ring().GetInfo().head_sequence, 10u);
}

// Verifies the epoch rule: an unclean stop under sync=none followed by a
// reboot (another boot id in STATE) starts a new epoch; what survived is
// kept, at the same sequences, in the new epoch, and still deduplicated.
TEST_F(JournalTest, UncleanNoneAndRebootStartsANewEpoch) {
  JournalOptions o = Options();
  o.sync = JournalOptions::Sync::kNone;
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  AppendRange(*j, 1, 5);
  EXPECT_EQ(j->stats().fsyncs.load(), 0u);
  const std::string image = CrashImage("j", "rebooted");
  JournalState state = *DecodeJournalState(
      *ReadWholeFile(absl::StrCat(image, "/", kStateFileName)));
  ASSERT_FALSE(state.clean);
  state.boot_id = "another-boot";
  ASSERT_THAT(
      WriteFileAtomically(image, kStateFileName, EncodeJournalState(state)),
      IsOk());
  JournalOptions ro = Options("rebooted");
  ro.sync = JournalOptions::Sync::kNone;
  std::unique_ptr<Journal> restored = MustOpen(ro);
  ASSERT_NE(restored, nullptr);
  EXPECT_TRUE(restored->recovery().epoch_changed);
  EXPECT_EQ(restored->recovery().previous_epoch, j->identity().epoch);
  EXPECT_NE(restored->identity().epoch, j->identity().epoch);
  ASSERT_NE(restored->ring().Get(3), nullptr);
  EXPECT_EQ(restored->ring().Get(3)->ToEvent(false).stream_epoch(),
            restored->identity().epoch);
  absl::StatusOr<AppendResult> retry =
      AppendAndWait(*restored, MakeEvent("evt_3", clock_.Now()));
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->sequence, 3u);
  // The new epoch is the journal's now: a later clean restart keeps it.
  const std::string epoch = restored->identity().epoch;
  restored.reset();
  restored = MustOpen(ro);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->identity().epoch, epoch);
}

// Verifies a torn tail (garbage after the last record, as a power loss
// mid-write leaves) is truncated and counted, every record before it kept,
// and the journal writes on after it.
TEST_F(JournalTest, TornTailIsTruncatedAndCounted) {
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  AppendRange(*j, 1, 20);
  const std::string image = CrashImage("j", "torn");
  const std::string segment =
      absl::StrCat(image, "/", Files("torn", ".seg").back());
  std::string partial;
  AppendRecord(21, clock_.Now(), std::string(300, 'x'), "", partial);
  {
    // Where the next record would go: the end of the file, or the start of
    // the zero-filled space preallocated after the records.
    absl::StatusOr<SegmentScan> scan = ScanSegment(*ReadWholeFile(segment));
    ASSERT_THAT(scan, IsOk());
    std::fstream out(segment, std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(static_cast<std::streamoff>(scan->valid_end));
    out << partial.substr(0, 100) << std::string(777, '\x42');
  }
  std::unique_ptr<Journal> restored = MustOpen(Options("torn"));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->recovery().torn_bytes, 877u);
  EXPECT_EQ(restored->recovery().torn_file, segment);
  EXPECT_EQ(restored->stats().torn_tails_truncated.load(), 1u);
  EXPECT_EQ(restored->ring().GetInfo().head_sequence, 20u);
  EXPECT_EQ(AppendRange(*restored, 21, 22), (std::vector<uint64_t>{21, 22}));
  restored.reset();
  restored = MustOpen(Options("torn"));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->recovery().torn_bytes, 0u);
  EXPECT_EQ(restored->ring().GetInfo().head_sequence, 22u);
}

// Verifies an unfinished write whose later pages reached the disk (a zero
// page inside the last segment, valid records after it) is a torn tail,
// not damage: the start goes on without the records from the zero page on
// (none of them was acknowledged: they were in the write being synced).
TEST_F(JournalTest, ZeroPageInTheLastSegmentIsATornWrite) {
  JournalOptions o = Options();
  o.segment_bytes = 1 << 20;
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  AppendRange(*j, 1, 60);  // ~30 KB
  const std::string image = CrashImage("j", "zero");
  const std::string segment =
      absl::StrCat(image, "/", Files("zero", ".seg").back());
  std::string bytes = *ReadWholeFile(segment);
  const size_t page = 3 * kTornPageSize;
  std::fill(bytes.begin() + page, bytes.begin() + page + kTornPageSize, '\0');
  ASSERT_THAT(WriteFileAtomically(image, Files("zero", ".seg").back(), bytes),
              IsOk());
  JournalOptions ro = o;
  ro.dir = image;
  std::unique_ptr<Journal> restored = MustOpen(ro);
  ASSERT_NE(restored, nullptr);
  EXPECT_GT(restored->recovery().torn_bytes, 0u);
  EXPECT_LE(restored->recovery().torn_offset, page);
  const uint64_t head = restored->ring().GetInfo().head_sequence;
  EXPECT_GT(head, 10u);
  EXPECT_LT(head, 60u);
  for (uint64_t s = 1; s <= head; ++s) {
    EXPECT_NE(restored->ring().Get(s), nullptr) << s;
  }
}

// Polls (bounded) until `path` is at least `size` bytes long.
bool WaitForFileSize(const std::string& path, uintmax_t size) {
  for (int i = 0; i < 3000; ++i) {
    std::error_code ec;
    if (fs::file_size(path, ec) >= size && !ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Verifies that under fsync the segment being written is kept zero-filled
// ahead of the records (up to the segment size), that a crash image with
// that space restores every record with nothing counted torn and writes on
// after them, and that under none there is no preallocation.
TEST_F(JournalTest, FsyncPreallocatesTheActiveSegmentAndRecoversCleanly) {
  JournalOptions o = Options();
  o.segment_bytes = 1 << 20;
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  AppendRange(*j, 1, 20);
  const std::string segment =
      (root_ / "j" / Files("j", ".seg").back()).string();
  ASSERT_TRUE(WaitForFileSize(segment, o.segment_bytes))
      << fs::file_size(segment);
  // (More when records were appended while a step of zeros was written.)
  EXPECT_LT(fs::file_size(segment), 2 * o.segment_bytes);
  absl::StatusOr<SegmentScan> scan = ScanSegment(*ReadWholeFile(segment));
  ASSERT_THAT(scan, IsOk());
  EXPECT_EQ(scan->records.size(), 20u);
  EXPECT_LT(scan->data_end, o.segment_bytes);
  EXPECT_EQ(scan->torn_bytes, 0u);

  const std::string image = CrashImage("j", "crash");
  JournalOptions ro = o;
  ro.dir = image;
  std::unique_ptr<Journal> restored = MustOpen(ro);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->recovery().torn_bytes, 0u);
  EXPECT_EQ(restored->stats().torn_tails_truncated.load(), 0u);
  EXPECT_EQ(restored->ring().GetInfo().head_sequence, 20u);
  EXPECT_EQ(AppendRange(*restored, 21, 22), (std::vector<uint64_t>{21, 22}));
  restored.reset();
  restored = MustOpen(ro);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->ring().GetInfo().head_sequence, 22u);
  for (uint64_t s = 1; s <= 22; ++s) {
    EXPECT_NE(restored->ring().Get(s), nullptr) << s;
  }

  JournalOptions none = Options("none");
  none.segment_bytes = 1 << 20;
  none.sync = JournalOptions::Sync::kNone;
  std::unique_ptr<Journal> n = MustOpen(none);
  ASSERT_NE(n, nullptr);
  AppendRange(*n, 1, 20);
  n.reset();
  const std::string none_segment =
      (root_ / "none" / Files("none", ".seg").back()).string();
  scan = ScanSegment(*ReadWholeFile(none_segment));
  ASSERT_THAT(scan, IsOk());
  EXPECT_EQ(fs::file_size(none_segment), scan->valid_end);
}

// Verifies that a segment is cut to its last record when the next one
// starts (its preallocated space goes), and that zeros after the records of
// a segment that is not the last are damage: the start is refused naming
// the file, and --journal_repair drops them.
TEST_F(JournalTest, ClosedSegmentsEndAtTheirLastRecord) {
  JournalOptions o = Options();
  o.segment_bytes = 8192;
  {
    std::unique_ptr<Journal> j = MustOpen(o);
    ASSERT_NE(j, nullptr);
    AppendRange(*j, 1, 80);
  }
  const std::vector<std::string> names = Files("j", ".seg");
  ASSERT_GE(names.size(), 3u);
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    const std::string path = (root_ / "j" / names[i]).string();
    absl::StatusOr<SegmentScan> scan = ScanSegment(*ReadWholeFile(path));
    ASSERT_THAT(scan, IsOk());
    EXPECT_FALSE(scan->records.empty()) << names[i];
    EXPECT_EQ(fs::file_size(path), scan->valid_end) << names[i];
  }
  const std::string middle = (root_ / "j" / names[1]).string();
  fs::resize_file(middle, fs::file_size(middle) + 4096);
  absl::StatusOr<std::unique_ptr<Journal>> refused =
      Journal::Open(o, clock_, nullptr);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(names[1])));
  JournalOptions repair = o;
  repair.repair = true;
  std::unique_ptr<Journal> repaired = MustOpen(repair);
  ASSERT_NE(repaired, nullptr);
  EXPECT_EQ(repaired->ring().GetInfo().head_sequence, 80u);
  for (uint64_t s = 1; s <= 80; ++s) {
    EXPECT_NE(repaired->ring().Get(s), nullptr) << s;
  }
}

// Verifies a flipped byte in a segment that is not the last refuses the
// start, naming the file and the offset; --journal_repair starts, drops
// exactly the damaged record (a hole), keeps the original file, and a
// later start needs no repair.
TEST_F(JournalTest, DamageInAMiddleSegmentRefusesUnlessRepaired) {
  JournalOptions o = Options();
  o.segment_bytes = 4096;
  {
    std::unique_ptr<Journal> j = MustOpen(o);
    ASSERT_NE(j, nullptr);
    AppendRange(*j, 1, 60);
  }
  const std::vector<std::string> segments = Files("j", ".seg");
  ASSERT_GE(segments.size(), 3u);
  const std::string middle = (root_ / "j" / segments[1]).string();
  std::string bytes = *ReadWholeFile(middle);
  const size_t offset = kSegmentHeaderSize + 10;  // inside the first record
  bytes[offset] ^= 0x20;
  {
    std::ofstream out(middle, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  absl::StatusOr<std::unique_ptr<Journal>> refused =
      Journal::Open(o, clock_, nullptr);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(absl::StrCat(middle, " at offset ",
                                                       kSegmentHeaderSize))));
  EXPECT_THAT(refused.status().message(), HasSubstr("--journal_repair"));

  JournalOptions repair = o;
  repair.repair = true;
  const uint64_t lost = DecodeSegmentHeader(bytes)->first_sequence;
  {
    std::unique_ptr<Journal> j = MustOpen(repair);
    ASSERT_NE(j, nullptr);
    ASSERT_THAT(j->recovery().repairs, SizeIs(1));
    EXPECT_THAT(j->recovery().repairs[0], HasSubstr(middle));
    EXPECT_EQ(j->ring().Get(lost), nullptr);
    EXPECT_NE(j->ring().Get(lost + 1), nullptr);
    EXPECT_EQ(j->ring().GetInfo().head_sequence, 60u);
    EXPECT_EQ(j->recovery().records, 59u);
  }
  bool kept_original = false;
  for (const auto& e : fs::directory_iterator(root_ / "j")) {
    kept_original |= absl::StrContains(e.path().filename().string(),
                                       segments[1] + ".corrupt-");
  }
  EXPECT_TRUE(kept_original);
  std::unique_ptr<Journal> j = MustOpen(o);  // no repair needed now
  ASSERT_NE(j, nullptr);
  EXPECT_THAT(j->recovery().repairs, IsEmpty());
  EXPECT_EQ(j->recovery().records, 59u);
}

// Verifies a retry of an event not yet durable is answered duplicate with
// the first delivery's sequence, and the event is kept once.
TEST_F(JournalTest, RetriesWhileInFlightGetTheFirstSequence) {
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  std::vector<std::future<absl::StatusOr<AppendResult>>> results;
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_shared<std::promise<absl::StatusOr<AppendResult>>>();
    results.push_back(p->get_future());
    j->Append(MakeEvent("evt_same", clock_.Now()),
              [p](absl::StatusOr<AppendResult> r) { p->set_value(r); });
  }
  int firsts = 0;
  for (auto& f : results) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    const absl::StatusOr<AppendResult> r = f.get();
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->sequence, 1u);
    firsts += !r->duplicate;
  }
  EXPECT_EQ(firsts, 1);
  EXPECT_EQ(j->ring().GetInfo().head_sequence, 1u);
  EXPECT_EQ(j->stats().records_written.load(), 1u);
}

// Verifies retention: segments whose events the ring no longer holds are
// deleted, their ids still in the window carried to .ids files, so that a
// retry after a restart is still a duplicate; once the window passed, the
// ids files go too. Disk use stays near the ring's share.
TEST_F(JournalTest, RetentionDeletesSegmentsAndCarriesIds) {
  JournalOptions o = Options();
  o.segment_bytes = 4096;
  o.ring = {.max_events = 10,
            .max_bytes = 64 << 20,
            .dedup = {.window = absl::Hours(72)}};
  {
    std::unique_ptr<Journal> j = MustOpen(o);
    ASSERT_NE(j, nullptr);
    AppendRange(*j, 1, 200);
    // Each closed segment also wakes the retention thread: some may be gone.
    ASSERT_GT(j->stats().segments_created.load(), 10u);
    ASSERT_THAT(j->RunRetention(), IsOk());
    const size_t after = Files("j", ".seg").size();
    EXPECT_LE(after, 4u);  // the ring's 10 events span at most 3, + active
    EXPECT_GT(Files("j", ".ids").size(), 0u);
    EXPECT_EQ(j->stats().segments.load(), after);
    EXPECT_EQ(
        j->stats().segments_created.load() - j->stats().segments_deleted.load(),
        after);
  }
  {
    std::unique_ptr<Journal> j = MustOpen(o);
    ASSERT_NE(j, nullptr);
    EXPECT_EQ(j->recovery().carried_ids, 200u - j->recovery().records);
    EXPECT_EQ(j->ring().GetInfo().head_sequence, 200u);
    absl::StatusOr<AppendResult> retry =
        AppendAndWait(*j, MakeEvent("evt_2", clock_.Now()));
    ASSERT_THAT(retry, IsOk());
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->sequence, 2u);
    EXPECT_EQ(j->ring().Get(2), nullptr);  // the event itself is gone
    clock_.Advance(absl::Hours(73));
    ASSERT_THAT(j->RunRetention(), IsOk());
    EXPECT_THAT(Files("j", ".ids"), IsEmpty());
  }
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->recovery().carried_ids, 0u);
  absl::StatusOr<AppendResult> fresh =
      AppendAndWait(*j, MakeEvent("evt_2", clock_.Now()));
  ASSERT_THAT(fresh, IsOk());
  EXPECT_FALSE(fresh->duplicate);  // the window passed: a new event
  EXPECT_EQ(fresh->sequence, 201u);
}

// Verifies one process per directory.
TEST_F(JournalTest, SecondOpenIsRefused) {
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  EXPECT_THAT(Journal::Open(Options(), clock_, nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in use by another hookstream-server")));
}

// Verifies Close completes everything given before it, and refuses later
// appends with UNAVAILABLE.
TEST_F(JournalTest, CloseCompletesPendingAndRefusesNew) {
  std::unique_ptr<Journal> j = MustOpen(Options());
  ASSERT_NE(j, nullptr);
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    j->Append(MakeEvent(absl::StrCat("evt_", i), clock_.Now()),
              [&ok](absl::StatusOr<AppendResult> r) { ok += r.ok(); });
  }
  j->Close();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(j->ring().GetInfo().head_sequence, 100u);
  EXPECT_THAT(AppendAndWait(*j, MakeEvent("late", clock_.Now())),
              StatusIs(absl::StatusCode::kUnavailable));
}

// Verifies the refusals that keep nothing and use up no sequence.
TEST_F(JournalTest, RefusesWhatItCanNeverKeep) {
  JournalOptions o = Options();
  o.ring.max_bytes = 2000;
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  EXPECT_THAT(AppendAndWait(*j, MakeEvent("big", clock_.Now(), 5000)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(AppendAndWait(*j, MakeEvent("", clock_.Now())),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(AppendRange(*j, 1, 1), std::vector<uint64_t>{1});
}

// Verifies concurrent appenders racing on the same ids get one sequence
// per id, contiguous, and everything survives a restart, under both sync
// modes (under none the appending threads write the batches themselves).
TEST_F(JournalTest, RacingAppendersGetOneSequencePerId) {
  constexpr int kIds = 300;
  for (const JournalOptions::Sync sync :
       {JournalOptions::Sync::kFsync, JournalOptions::Sync::kNone}) {
    const std::string dir =
        sync == JournalOptions::Sync::kFsync ? "race_fsync" : "race_none";
    JournalOptions o = Options(dir);
    o.sync = sync;
    {
      std::unique_ptr<Journal> j = MustOpen(o);
      ASSERT_NE(j, nullptr);
      std::vector<std::vector<uint64_t>> seen(4, std::vector<uint64_t>(kIds));
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kIds; ++i) {
            absl::StatusOr<AppendResult> r = AppendAndWait(
                *j, MakeEvent(absl::StrCat("evt_", i), clock_.Now()));
            seen[t][i] = r.ok() ? r->sequence : 0;
          }
        });
      }
      for (std::thread& t : threads) t.join();
      EXPECT_EQ(j->ring().GetInfo().head_sequence, static_cast<uint64_t>(kIds));
      for (int i = 0; i < kIds; ++i) {
        for (int t = 1; t < 4; ++t) EXPECT_EQ(seen[t][i], seen[0][i]) << i;
      }
    }
    std::unique_ptr<Journal> j = MustOpen(o);
    ASSERT_NE(j, nullptr);
    EXPECT_EQ(j->recovery().records, static_cast<uint64_t>(kIds));
  }
}

// Verifies that under Sync::kNone, on threads with no event loop, racing
// appenders write the queue themselves: nothing is handed to the writer
// thread while the segment has room (the hand-off and the answer's trip back
// were the journal's largest CPU cost), every append is answered once, and
// each answer comes from one of the appending threads.
TEST_F(JournalTest, UnderNoneAppendingThreadsWriteTheQueueThemselves) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  JournalOptions o = Options();
  o.sync = JournalOptions::Sync::kNone;
  o.segment_bytes = 64 << 20;  // no rotation: that one goes to the writer
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  std::mutex mu;
  std::set<std::thread::id> appenders;
  std::set<std::thread::id> answerers;
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      {
        std::lock_guard lock(mu);
        appenders.insert(std::this_thread::get_id());
      }
      for (int i = 0; i < kPerThread; ++i) {
        j->Append(MakeEvent(absl::StrCat("evt_", t, "_", i), clock_.Now()),
                  [&](absl::StatusOr<AppendResult> r) {
                    if (!r.ok()) failed.fetch_add(1);
                    answered.fetch_add(1);
                    std::lock_guard lock(mu);
                    answerers.insert(std::this_thread::get_id());
                  });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  j->Close();
  EXPECT_EQ(answered.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(j->stats().handed_to_writer.load(), 0u);
  for (const std::thread::id& id : answerers) {
    EXPECT_TRUE(appenders.contains(id)) << "answered on another thread";
  }
  EXPECT_EQ(j->stats().records_written.load(),
            static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(j->ring().GetInfo().head_sequence,
            static_cast<uint64_t>(kThreads * kPerThread));
}

// A thread's event loop, reduced to its queue: Defer queues, Run runs.
class QueueDeferrer final : public ThreadDeferrer {
 public:
  void Defer(absl::AnyInvocable<void() &&> work) override {
    queue_.push_back(std::move(work));
  }
  void Run() {
    while (!queue_.empty()) {
      absl::AnyInvocable<void()&&> work = std::move(queue_.front());
      queue_.pop_front();
      std::move(work)();
    }
  }
  size_t size() const { return queue_.size(); }

 private:
  std::deque<absl::AnyInvocable<void() &&>> queue_;
};

// Verifies that under Sync::kNone, on an event loop's thread, the appends of
// one loop iteration are written together once the loop runs what it has
// queued: one write(2), no answer before it (so none before the record is
// in the file), every answer after it, none by the writer thread.
TEST_F(JournalTest, UnderNoneOneLoopIterationSharesOneWrite) {
  JournalOptions o = Options();
  o.sync = JournalOptions::Sync::kNone;
  std::unique_ptr<Journal> j = MustOpen(o);
  ASSERT_NE(j, nullptr);
  QueueDeferrer loop;
  ScopedThreadDeferrer scope(&loop);
  constexpr int kAppends = 5;
  std::vector<uint64_t> sequences;
  for (int i = 0; i < kAppends; ++i) {
    j->Append(MakeEvent(absl::StrCat("evt_", i), clock_.Now()),
              [&](absl::StatusOr<AppendResult> r) {
                ASSERT_TRUE(r.ok()) << r.status();
                sequences.push_back(r->sequence);
              });
  }
  // A retry of a queued event waits for it, and is not written again.
  bool retry_answered = false;
  j->Append(MakeEvent("evt_0", clock_.Now()),
            [&](absl::StatusOr<AppendResult> r) {
              ASSERT_TRUE(r.ok()) << r.status();
              EXPECT_TRUE(r->duplicate);
              EXPECT_EQ(r->sequence, 1u);
              retry_answered = true;
            });
  EXPECT_TRUE(sequences.empty());
  EXPECT_EQ(j->stats().records_written.load(), 0u);
  EXPECT_EQ(j->ring().GetInfo().head_sequence, 0u);  // readers see nothing
  EXPECT_EQ(loop.size(), 1u);                        // one flush deferred
  loop.Run();
  EXPECT_EQ(sequences, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(retry_answered);
  EXPECT_EQ(j->stats().batches.load(), 1u);
  EXPECT_EQ(j->stats().records_written.load(), uint64_t{kAppends});
  EXPECT_EQ(j->stats().handed_to_writer.load(), 0u);
  EXPECT_EQ(j->ring().GetInfo().head_sequence, uint64_t{kAppends});
  j->Close();
}

// Verifies that Close writes and answers what a deferred flush was to write
// (the loop may run it only later, or never), and that the flush, run after
// Close, writes nothing twice.
TEST_F(JournalTest, CloseWritesWhatADeferredFlushWasToWrite) {
  JournalOptions o = Options();
  o.sync = JournalOptions::Sync::kNone;
  const std::string dir = o.dir;
  QueueDeferrer loop;
  int answered = 0;
  {
    std::unique_ptr<Journal> j = MustOpen(o);
    ASSERT_NE(j, nullptr);
    ScopedThreadDeferrer scope(&loop);
    for (int i = 0; i < 3; ++i) {
      j->Append(MakeEvent(absl::StrCat("evt_", i), clock_.Now()),
                [&](absl::StatusOr<AppendResult> r) {
                  EXPECT_TRUE(r.ok()) << r.status();
                  ++answered;
                });
    }
    EXPECT_EQ(answered, 0);
    j->Close();
    EXPECT_EQ(answered, 3);
    EXPECT_EQ(j->stats().records_written.load(), 3u);
    loop.Run();  // the deferred flush, late: nothing left to write
    EXPECT_EQ(j->stats().records_written.load(), 3u);
    EXPECT_EQ(answered, 3);
  }
  std::unique_ptr<Journal> reopened = MustOpen(o);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->ring().GetInfo().head_sequence, 3u);
}

}  // namespace
}  // namespace hookstream::journal
