// Appenders and readers on one EventRing at the same time. Run under
// ThreadSanitizer by the `tsan` build (ctest -L concurrency).
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ring/event_ring.h"
#include "gtest/gtest.h"
#include "tests/common/ring/tsan_visible_sync.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/memory_store.h"

namespace hookstream {
namespace {

using ::hookstream::testing::FakeClock;
using ::hookstream::testing::MemoryStore;

constexpr int kAppenders = 4;  // in pairs that append the same ids
constexpr int kIdsPerPair = 600;
constexpr uint64_t kUniqueIds = kAppenders / 2 * kIdsPerPair;
constexpr int kReaders = 3;

struct AppendLog {
  std::vector<uint64_t> sequences;  // by id index
  std::vector<bool> duplicate;
};

// Appender `a` appends ids evt_<a/2>_<i>: two appenders race on each id.
void AppendAll(MemoryStore& store, int a, AppendLog& log) {
  log.sequences.resize(kIdsPerPair);
  log.duplicate.resize(kIdsPerPair);
  for (int i = 0; i < kIdsPerPair; ++i) {
    v1::Event event;
    event.set_id(absl::StrCat("evt_", a / 2, "_", i));
    event.set_type("customer.created");
    event.set_raw_json(absl::StrCat("{\"i\":", i, "}"));
    absl::StatusOr<AppendResult> result = store.Append(event);
    ASSERT_TRUE(result.ok()) << result.status();
    log.sequences[i] = result->sequence;
    log.duplicate[i] = result->duplicate;
  }
}

// Checks what the appenders were told: each id appended once, at a sequence
// both racing appenders agree on, and the sequences are exactly 1..N.
void CheckAppendLogs(const std::vector<AppendLog>& logs) {
  std::vector<int> seen(kUniqueIds + 1, 0);
  for (int pair = 0; pair < kAppenders / 2; ++pair) {
    const AppendLog& a = logs[2 * pair];
    const AppendLog& b = logs[2 * pair + 1];
    for (int i = 0; i < kIdsPerPair; ++i) {
      EXPECT_EQ(a.sequences[i], b.sequences[i]) << pair << "/" << i;
      EXPECT_NE(a.duplicate[i], b.duplicate[i]) << pair << "/" << i;
      ASSERT_GE(a.sequences[i], 1u);
      ASSERT_LE(a.sequences[i], kUniqueIds);
      ++seen[a.sequences[i]];
    }
  }
  for (uint64_t s = 1; s <= kUniqueIds; ++s) EXPECT_EQ(seen[s], 1) << s;
}

struct ReaderLog {
  uint64_t seen = 0;
  uint64_t missed = 0;
};

// Consumes one ReadResult read from `*position`: every event must be the
// next sequence (after the reported gap), checked against its bytes.
// Returns false on a violation (already reported).
bool Consume(const EventRing::ReadResult& r, uint64_t* position,
             ReaderLog& log) {
  uint64_t expected = *position + 1 + r.missed;
  if (r.missed > 0 && r.oldest_sequence != expected) {
    ADD_FAILURE() << "gap to " << r.oldest_sequence << " reported as "
                  << r.missed << " from " << *position;
    return false;
  }
  log.missed += r.missed;
  for (const StoredEventPtr& e : r.events) {
    if (e->sequence != expected ||
        e->ToEvent(false).sequence() != e->sequence) {
      ADD_FAILURE() << "expected " << expected << ", got " << e->sequence;
      return false;
    }
    ++expected;
    ++log.seen;
  }
  if (r.position != expected - 1) {
    ADD_FAILURE() << "position " << r.position << " after " << expected - 1;
    return false;
  }
  *position = r.position;
  return true;
}

// A reader thread: Read until caught up, then Wait for the next append.
void FollowStream(EventRing& ring, ReaderLog& log) {
  uint64_t position = 0;
  while (log.seen + log.missed < kUniqueIds) {
    const EventRing::ReadResult r = ring.Read(position, {.max_events = 7});
    if (!Consume(r, &position, log)) return;
    if (!r.events.empty() || r.missed > 0) continue;
    // Shared: the callback may still be returning when we wake up.
    auto woken = std::make_shared<testing::Notification>();
    if (ring.Wait(position, [woken] { woken->Notify(); })) {
      woken->WaitForNotification();
    }
  }
}

void RunAppendersAndReaders(MemoryStore& store,
                            std::vector<ReaderLog>& readers) {
  EventRing& ring = store.ring();
  std::vector<AppendLog> append_logs(kAppenders);
  std::latch ready(kAppenders + kReaders);
  testing::Notification go;
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      ready.count_down();
      go.WaitForNotification();
      FollowStream(ring, readers[r]);
    });
  }
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([&, a] {
      ready.count_down();
      go.WaitForNotification();
      AppendAll(store, a, append_logs[a]);
    });
  }
  ready.wait();
  go.Notify();
  for (std::thread& t : threads) t.join();
  CheckAppendLogs(append_logs);
  EXPECT_EQ(ring.GetInfo().head_sequence, kUniqueIds);
}

TEST(RingConcurrencyTest, ReadersSeeEverySequenceOnceInOrder) {
  // Verifies that with a ring big enough for everything, every following
  // reader sees 1..N exactly once, in order, with no gap, while racing
  // appenders (and duplicate appends) run.
  FakeClock clock;
  MemoryStore store({.max_events = 100'000}, clock);
  std::vector<ReaderLog> readers(kReaders);
  RunAppendersAndReaders(store, readers);
  for (const ReaderLog& log : readers) {
    EXPECT_EQ(log.seen, kUniqueIds);
    EXPECT_EQ(log.missed, 0u);
  }
}

TEST(RingConcurrencyTest, SmallRingReadersSeeOnlyReportedGaps) {
  // Verifies that with a tiny ring, readers may miss events but only as
  // reported gaps: never reordered or duplicated, and seen + missed == N.
  FakeClock clock;
  MemoryStore store({.max_events = 8}, clock);
  std::vector<ReaderLog> readers(kReaders);
  RunAppendersAndReaders(store, readers);
  for (const ReaderLog& log : readers) {
    EXPECT_EQ(log.seen + log.missed, kUniqueIds);
  }
}

TEST(RingConcurrencyTest, LookupsByIdRaceAppendsAndEvictions) {
  // Verifies that GetById and SequenceOfEventId, racing appenders on a tiny
  // ring that evicts all the time, only ever answer with the event of that
  // id and one stable sequence per id: the one its appenders were told.
  FakeClock clock;
  MemoryStore store({.max_events = 8}, clock);
  EventRing& ring = store.ring();
  std::vector<AppendLog> append_logs(kAppenders);
  std::vector<uint64_t> looked_up(kUniqueIds, 0);  // by pair * kIdsPerPair + i
  testing::Notification appended;
  std::thread looker([&] {
    bool last_sweep = false;
    while (!last_sweep) {
      last_sweep = appended.HasBeenNotified();
      for (int pair = 0; pair < kAppenders / 2; ++pair) {
        for (int i = 0; i < kIdsPerPair; ++i) {
          const std::string id = absl::StrCat("evt_", pair, "_", i);
          if (const StoredEventPtr e = ring.GetById(id)) {
            ASSERT_EQ(e->id, id);
            ASSERT_EQ(e->ToEvent(false).id(), id);
          }
          uint64_t& seen = looked_up[pair * kIdsPerPair + i];
          if (const std::optional<uint64_t> s = ring.SequenceOfEventId(id)) {
            if (seen != 0) {
              ASSERT_EQ(*s, seen) << id;
            }
            seen = *s;
          } else {
            ASSERT_EQ(seen, 0u) << id << " forgotten";
          }
        }
      }
    }
  });
  std::vector<std::thread> appenders;
  for (int a = 0; a < kAppenders; ++a) {
    appenders.emplace_back([&, a] { AppendAll(store, a, append_logs[a]); });
  }
  for (std::thread& t : appenders) t.join();
  appended.Notify();
  looker.join();
  CheckAppendLogs(append_logs);
  for (int pair = 0; pair < kAppenders / 2; ++pair) {
    for (int i = 0; i < kIdsPerPair; ++i) {
      // The last sweep started after every append: each id was seen.
      EXPECT_EQ(looked_up[pair * kIdsPerPair + i],
                append_logs[2 * pair].sequences[i])
          << pair << "/" << i;
    }
  }
}

// A reader driven only by wake-up callbacks, as a gRPC reactor is: the
// callback reads on the appender's thread and re-arms from inside itself.
class CallbackReader {
 public:
  explicit CallbackReader(EventRing& ring) : ring_(ring) {}

  void Start() { OnEventsAvailable(); }
  void AwaitDone() { done_.WaitForNotification(); }
  ReaderLog log() const {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  void OnEventsAvailable() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        for (;;) {
          const EventRing::ReadResult r =
              ring_.Read(position_, {.max_events = 5});
          if (!Consume(r, &position_, log_) ||
              log_.seen + log_.missed >= kUniqueIds) {
            done_.Notify();
            return;
          }
          if (r.events.empty() && r.missed == 0) break;
        }
        wait_position_ = position_;
      }
      // Last thing we do: once registered, the next callback may already
      // be running on another thread.
      if (ring_.Wait(wait_position_, [this] { OnEventsAvailable(); })) return;
    }
  }

  EventRing& ring_;
  mutable std::mutex mu_;
  uint64_t position_ = 0;
  // Only touched by the one activation that is running.
  uint64_t wait_position_ = 0;
  ReaderLog log_;
  testing::Notification done_;
};

TEST(RingConcurrencyTest, CallbackDrivenReadersFollowTheStream) {
  // Verifies that readers that only read from their wake-up callbacks (and
  // re-arm there) see every sequence once, in order, with no gap.
  FakeClock clock;
  MemoryStore store({.max_events = 100'000}, clock);
  EventRing& ring = store.ring();
  std::vector<std::unique_ptr<CallbackReader>> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.push_back(std::make_unique<CallbackReader>(ring));
    readers.back()->Start();
  }
  std::vector<AppendLog> append_logs(kAppenders);
  std::vector<std::thread> appenders;
  for (int a = 0; a < kAppenders; ++a) {
    appenders.emplace_back([&, a] { AppendAll(store, a, append_logs[a]); });
  }
  for (std::thread& t : appenders) t.join();
  CheckAppendLogs(append_logs);
  for (auto& reader : readers) {
    reader->AwaitDone();
    EXPECT_EQ(reader->log().seen, kUniqueIds);
    EXPECT_EQ(reader->log().missed, 0u);
  }
}

}  // namespace
}  // namespace hookstream
