#include "common/base/thread_deferral.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace hookstream {
namespace {

class CountingDeferrer final : public ThreadDeferrer {
 public:
  void Defer(absl::AnyInvocable<void() &&> work) override {
    works.push_back(std::move(work));
  }
  std::vector<absl::AnyInvocable<void() &&>> works;
};

// Verifies that a thread has no deferrer unless a scope gives it one, that
// scopes nest (the previous one comes back), and that the deferrer is the
// calling thread's only.
TEST(ThreadDeferralTest, ScopesSetAndRestoreTheThreadsDeferrer) {
  EXPECT_EQ(CurrentThreadDeferrer(), nullptr);
  CountingDeferrer outer;
  CountingDeferrer inner;
  {
    ScopedThreadDeferrer a(&outer);
    EXPECT_EQ(CurrentThreadDeferrer(), &outer);
    {
      ScopedThreadDeferrer b(&inner);
      EXPECT_EQ(CurrentThreadDeferrer(), &inner);
      ThreadDeferrer* elsewhere = &inner;
      std::thread([&] { elsewhere = CurrentThreadDeferrer(); }).join();
      EXPECT_EQ(elsewhere, nullptr);
    }
    EXPECT_EQ(CurrentThreadDeferrer(), &outer);
    int ran = 0;
    CurrentThreadDeferrer()->Defer([&ran] { ++ran; });
    ASSERT_EQ(outer.works.size(), 1u);
    EXPECT_EQ(ran, 0);
    std::move(outer.works.front())();
    EXPECT_EQ(ran, 1);
  }
  EXPECT_EQ(CurrentThreadDeferrer(), nullptr);
}

}  // namespace
}  // namespace hookstream
