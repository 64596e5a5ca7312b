#include "common/backend/memory_backend.h"

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/base/proto_time.h"
#include "common/ring/event_ring.h"
#include "common/store/stream_identity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::FakeClock;
using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;

v1::Event MakeEvent(absl::string_view id, absl::Time received_at) {
  v1::Event event;
  event.set_id(std::string(id));
  event.set_type("customer.created");
  *event.mutable_received_at() = ToProtoTimestamp(received_at);
  event.set_raw_json("{}");
  return event;
}

class MemoryBackendTest : public ::testing::Test {
 protected:
  absl::StatusOr<AppendResult> Append(v1::Event event) {
    std::optional<absl::StatusOr<AppendResult>> result;
    int calls = 0;
    backend_.Append(std::move(event), [&](absl::StatusOr<AppendResult> r) {
      ++calls;
      result = std::move(r);
    });
    // The completion ran exactly once, before Append returned.
    EXPECT_EQ(calls, 1);
    return result.value_or(absl::InternalError("no completion"));
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  EventRing ring_{{.max_events = 3, .max_bytes = 1 << 20},
                  clock_,
                  {.epoch = "epoch-mem", .start_time = clock_.Now()}};
  MemoryBackend backend_{ring_, clock_};
};

// Verifies sequences 1, 2, 3 in order, each visible in the ring when its
// completion runs, in the ring's epoch.
TEST_F(MemoryBackendTest, AssignsContiguousSequencesAndAppliesAtOnce) {
  for (uint64_t i = 1; i <= 3; ++i) {
    const std::string id = absl::StrCat("evt_", i);
    std::optional<uint64_t> visible_at_completion;
    backend_.Append(MakeEvent(id, clock_.Now()),
                    [&](absl::StatusOr<AppendResult> r) {
                      ASSERT_THAT(r, IsOk());
                      EXPECT_EQ(r->sequence, i);
                      EXPECT_FALSE(r->duplicate);
                      if (StoredEventPtr e = ring_.Get(r->sequence)) {
                        visible_at_completion = e->sequence;
                      }
                    });
    EXPECT_EQ(visible_at_completion, i);
    EXPECT_EQ(ring_.Get(i)->ToEvent(false).stream_epoch(), "epoch-mem");
  }
}

// Verifies that a retry is a duplicate with the first sequence, also after
// its event was evicted, and that it neither appends nor wakes readers.
TEST_F(MemoryBackendTest, DuplicatesGetTheFirstSequence) {
  ASSERT_THAT(Append(MakeEvent("evt_a", clock_.Now())), IsOk());
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(Append(MakeEvent(absl::StrCat("evt_", i), clock_.Now())),
                IsOk());
  }
  ASSERT_EQ(ring_.Get(1), nullptr);  // evt_a was evicted
  int woken = 0;
  ASSERT_TRUE(ring_.Wait(4, [&woken] { ++woken; }).has_value());
  absl::StatusOr<AppendResult> retry = Append(MakeEvent("evt_a", clock_.Now()));
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->sequence, 1u);
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(ring_.GetInfo().head_sequence, 4u);
  EXPECT_EQ(woken, 0);
}

// Verifies the log time is the event's received_at, raised to the previous
// event's so that it never decreases.
TEST_F(MemoryBackendTest, LogTimeNeverDecreases) {
  const absl::Time t = clock_.Now();
  ASSERT_THAT(Append(MakeEvent("e1", t)), IsOk());
  ASSERT_THAT(Append(MakeEvent("e2", t - absl::Seconds(5))), IsOk());
  ASSERT_THAT(Append(MakeEvent("e3", t + absl::Seconds(5))), IsOk());
  EXPECT_EQ(ring_.Get(1)->log_time, t);
  EXPECT_EQ(ring_.Get(2)->log_time, t);
  EXPECT_EQ(ring_.Get(3)->log_time, t + absl::Seconds(5));
}

// Verifies the refusals: no id, an event larger than the whole ring.
TEST_F(MemoryBackendTest, RefusesWhatItCanNeverKeep) {
  EXPECT_THAT(Append(MakeEvent("", clock_.Now())),
              StatusIs(absl::StatusCode::kInvalidArgument));
  v1::Event huge = MakeEvent("huge", clock_.Now());
  huge.set_raw_json(std::string(2 << 20, 'x'));
  EXPECT_THAT(Append(std::move(huge)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(ring_.GetInfo().head_sequence, 0u);
  // The next event still gets sequence 1: nothing was used up.
  absl::StatusOr<AppendResult> next = Append(MakeEvent("e1", clock_.Now()));
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->sequence, 1u);
}

// Verifies that a backend over a restored ring continues after its head.
TEST(MemoryBackendRestoredTest, ContinuesAfterTheRingsHead) {
  FakeClock clock;
  EventRing ring({}, clock, NewStreamIdentity(clock.Now()),
                 /*first_sequence=*/500);
  MemoryBackend backend(ring, clock);
  std::optional<uint64_t> sequence;
  backend.Append(MakeEvent("e", clock.Now()),
                 [&](absl::StatusOr<AppendResult> r) {
                   if (r.ok()) sequence = r->sequence;
                 });
  EXPECT_EQ(sequence, 500u);
}

// Verifies that concurrent appenders racing on the same ids get one
// sequence per id and contiguous sequences overall.
TEST(MemoryBackendConcurrencyTest, RacingAppendersGetOneSequencePerId) {
  FakeClock clock;
  EventRing ring({.max_events = 10'000}, clock, NewStreamIdentity(clock.Now()));
  MemoryBackend backend(ring, clock);
  constexpr int kIds = 500;
  std::vector<std::vector<uint64_t>> seen(4, std::vector<uint64_t>(kIds));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIds; ++i) {
        backend.Append(MakeEvent(absl::StrCat("evt_", i), clock.Now()),
                       [&, t, i](absl::StatusOr<AppendResult> r) {
                         seen[t][i] = r.ok() ? r->sequence : 0;
                       });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ring.GetInfo().head_sequence, static_cast<uint64_t>(kIds));
  for (int i = 0; i < kIds; ++i) {
    for (int t = 1; t < 4; ++t) EXPECT_EQ(seen[t][i], seen[0][i]) << i;
    EXPECT_EQ(ring.Get(seen[0][i])->id, absl::StrCat("evt_", i));
  }
}

}  // namespace
}  // namespace hookstream
