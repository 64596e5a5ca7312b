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

// What a new thread that named itself `name` shows.
std::string CommOfANewThreadNamed(absl::string_view name) {
  std::string comm;
  std::thread([&] {
    NameCurrentThread(name);
    comm = CommOfCurrentThread();
  }).join();
  return comm;
}

TEST(ThreadNameTest, NamesTheCallingThread) {
  EXPECT_EQ(CommOfANewThreadNamed("hs-jrnl-write"), "hs-jrnl-write");
}

TEST(ThreadNameTest, CutsALongerNameAtWhatTheKernelKeeps) {
  const std::string comm =
      CommOfANewThreadNamed("hs-a-name-longer-than-fifteen");
  EXPECT_EQ(comm, "hs-a-name-longe");
  EXPECT_EQ(comm.size(), kMaxThreadNameBytes);
}

TEST(ThreadNameTest, LeavesOtherThreadsAlone) {
  const std::string before = CommOfCurrentThread();
  ASSERT_NE(before, "hs-other");
  CommOfANewThreadNamed("hs-other");
  EXPECT_EQ(CommOfCurrentThread(), before);
}

}  // namespace
}  // namespace hookstream
