#include "common/base/thread_name.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace hookstream {
namespace {

// The calling thread's name as top and ps read it.
std::string CommOfCurrentThread() {
  std::ifstream comm(
      absl::StrCat("/proc/self/task/", ::syscall(SYS_gettid), "/comm"));
  std::string name;
  std::getline(comm, name);
  return name;
}

struct Seen {
  std::string comm;
  std::string read_back;
};

Seen NameANewThread(absl::string_view name) {
  Seen seen;
  std::thread([&] {
    NameCurrentThread(name);
    seen.comm = CommOfCurrentThread();
    seen.read_back = CurrentThreadName();
  }).join();
  return seen;
}

TEST(ThreadNameTest, NamesTheCallingThread) {
  const Seen seen = NameANewThread("hs-jrnl-write");
  EXPECT_EQ(seen.comm, "hs-jrnl-write");
  EXPECT_EQ(seen.read_back, "hs-jrnl-write");
}

TEST(ThreadNameTest, CutsALongerNameAtWhatTheKernelKeeps) {
  const Seen seen = NameANewThread("hs-a-name-longer-than-fifteen");
  EXPECT_EQ(seen.comm, "hs-a-name-longe");
  EXPECT_EQ(seen.comm.size(), kMaxThreadNameBytes);
}

TEST(ThreadNameTest, LeavesOtherThreadsAlone) {
  const std::string before = CommOfCurrentThread();
  ASSERT_NE(before, "hs-other");
  NameANewThread("hs-other");
  EXPECT_EQ(CommOfCurrentThread(), before);
}

}  // namespace
}  // namespace hookstream
