#include "server/reload.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;

// Verifies that every part runs, in order, and a success is counted.
TEST(ReloadRegistryTest, RunsEveryPartAndCountsSuccess) {
  ReloadRegistry reload;
  std::vector<std::string> ran;
  reload.Add("a", [&] {
    ran.push_back("a");
    return absl::OkStatus();
  });
  reload.Add("b", [&] {
    ran.push_back("b");
    return absl::OkStatus();
  });
  EXPECT_TRUE(reload.ReloadAll().ok());
  EXPECT_THAT(ran, ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(reload.successes(), 1u);
  EXPECT_EQ(reload.failures(), 0u);
  EXPECT_NE(reload.last_success(), absl::InfinitePast());
  EXPECT_THAT(reload.names(), ::testing::ElementsAre("a", "b"));
}

// Verifies that a failing part does not stop the others, and that the run
// is counted as a failure naming the part and why.
TEST(ReloadRegistryTest, AFailingPartLeavesTheOthersReloaded) {
  ReloadRegistry reload;
  int b_runs = 0;
  reload.Add("a", [] { return absl::NotFoundError("cannot read x.crt"); });
  reload.Add("b", [&] {
    ++b_runs;
    return absl::OkStatus();
  });
  const absl::Status s = reload.ReloadAll();
  EXPECT_THAT(s.message(), HasSubstr("a: cannot read x.crt"));
  EXPECT_EQ(b_runs, 1);
  EXPECT_EQ(reload.successes(), 0u);
  EXPECT_EQ(reload.failures(), 1u);
  EXPECT_EQ(reload.last_success(), absl::InfinitePast());
}

}  // namespace
}  // namespace hookstream
