// ConnectionTable: the caps, and how closed connections free their places
// without a close() hook (a fake "still open" answers for the descriptors).
#include "server/connection_table.h"

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace hookstream {
namespace {

using Verdict = ConnectionTable::Verdict;

// Descriptors open now and the socket inode each names.
class FakeDescriptors {
 public:
  uint64_t Open(int fd) {
    open_[fd] = ++next_inode_;
    return open_[fd];
  }
  void Close(int fd) { open_.erase(fd); }
  ConnectionTable::StillOpen still_open() {
    return [this](int fd, uint64_t inode) {
      ++checks_;
      auto it = open_.find(fd);
      return it != open_.end() && it->second == inode;
    };
  }
  int checks() const { return checks_; }

 private:
  absl::flat_hash_map<int, uint64_t> open_;
  uint64_t next_inode_ = 0;
  int checks_ = 0;
};

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

// Verifies the per-peer cap: a fourth connection from a peer capped at 3 is
// refused, another peer's is not, and the peer's place is free again once
// one of its connections is closed.
TEST(ConnectionTableTest, PerPeerCapRefusesUntilOneCloses) {
  FakeDescriptors fds;
  ConnectionTable table({.max_total = 0, .max_per_peer = 3}, fds.still_open());
  for (int fd = 10; fd < 13; ++fd) {
    EXPECT_EQ(table.Admit(fd, fds.Open(fd), "10.0.0.1", kStart),
              Verdict::kAdmitted);
  }
  EXPECT_EQ(table.Admit(13, fds.Open(13), "10.0.0.1", kStart),
            Verdict::kOverPeer);
  fds.Close(13);  // the guard resets what is refused
  EXPECT_EQ(table.Admit(14, fds.Open(14), "10.0.0.2", kStart),
            Verdict::kAdmitted);
  fds.Close(11);
  EXPECT_EQ(table.Admit(15, fds.Open(15), "10.0.0.1", kStart),
            Verdict::kAdmitted);
  EXPECT_EQ(table.size(), 4u);
}

// Verifies the total cap, and that a full scan for closed connections runs
// at most once per prune interval, however many connections arrive.
TEST(ConnectionTableTest, TotalCapScansAtMostOncePerInterval) {
  FakeDescriptors fds;
  ConnectionTable table({.max_total = 2,
                         .max_per_peer = 0,
                         .prune_interval = absl::Milliseconds(100)},
                        fds.still_open());
  EXPECT_EQ(table.Admit(10, fds.Open(10), "a", kStart), Verdict::kAdmitted);
  EXPECT_EQ(table.Admit(11, fds.Open(11), "b", kStart), Verdict::kAdmitted);
  EXPECT_EQ(table.Admit(12, fds.Open(12), "c", kStart), Verdict::kOverTotal);
  fds.Close(12);
  EXPECT_EQ(fds.checks(), 2);  // one scan of the two entries
  fds.Close(10);
  // Within the interval: no new scan, so the closed one still counts.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(
        table.Admit(12, fds.Open(12), "c", kStart + absl::Milliseconds(50)),
        Verdict::kOverTotal);
    fds.Close(12);
  }
  EXPECT_EQ(fds.checks(), 2);
  // After it: the scan finds 10 closed and admits.
  EXPECT_EQ(
      table.Admit(12, fds.Open(12), "c", kStart + absl::Milliseconds(100)),
      Verdict::kAdmitted);
  EXPECT_EQ(table.size(), 2u);
}

// Verifies that a descriptor the kernel hands out again replaces its old
// entry (the old connection is necessarily closed), and that an entry whose
// descriptor now names another file is found gone by a scan.
TEST(ConnectionTableTest, ReusedDescriptorsDoNotCountTwice) {
  FakeDescriptors fds;
  ConnectionTable table({.max_total = 0, .max_per_peer = 1}, fds.still_open());
  EXPECT_EQ(table.Admit(10, fds.Open(10), "p", kStart), Verdict::kAdmitted);
  fds.Close(10);
  // 10 again, from the same peer: not "over the cap of 1".
  EXPECT_EQ(table.Admit(10, fds.Open(10), "p", kStart), Verdict::kAdmitted);
  EXPECT_EQ(table.size(), 1u);
  // 10 closed and reopened as some other file (new inode, not admitted):
  // a scan sees the entry gone.
  fds.Close(10);
  fds.Open(10);
  EXPECT_EQ(table.Admit(11, fds.Open(11), "p", kStart), Verdict::kAdmitted);
  EXPECT_EQ(table.size(), 1u);
}

// Verifies that without caps everything is admitted and nothing is checked.
TEST(ConnectionTableTest, NoCapsAdmitEverything) {
  FakeDescriptors fds;
  ConnectionTable table({}, fds.still_open());
  for (int fd = 0; fd < 1000; ++fd) {
    EXPECT_EQ(table.Admit(fd, fds.Open(fd), "p", kStart), Verdict::kAdmitted);
  }
  EXPECT_EQ(fds.checks(), 0);
}

}  // namespace
}  // namespace hookstream
