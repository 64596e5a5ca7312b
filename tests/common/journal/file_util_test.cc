#include "common/journal/file_util.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace hookstream::journal {
namespace {

namespace fs = std::filesystem;

const off_t kPage = static_cast<off_t>(::sysconf(_SC_PAGESIZE));

// Which of the file's pages are in the page cache (mincore on a mapping).
std::vector<bool> CachedPages(int fd, off_t size) {
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  EXPECT_NE(map, MAP_FAILED);
  if (map == MAP_FAILED) return {};
  std::vector<unsigned char> vec((size + kPage - 1) / kPage);
  EXPECT_EQ(::mincore(map, size, vec.data()), 0);
  ::munmap(map, size);
  std::vector<bool> cached;
  for (unsigned char v : vec) cached.push_back((v & 1) != 0);
  return cached;
}

class DropCachedPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::path(::testing::TempDir()) /
             absl::StrCat("file_util_test_", ::getpid()))
                .string();
    fd_ = UniqueFd(::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600));
    ASSERT_TRUE(fd_.valid());
    struct statfs fs_info;
    ASSERT_EQ(::fstatfs(fd_.get(), &fs_info), 0);
    if (fs_info.f_type == TMPFS_MAGIC) {
      GTEST_SKIP() << "tmpfs keeps its pages (it has no disk to drop them to)";
    }
  }
  void TearDown() override { fs::remove(path_); }

  std::string path_;
  UniqueFd fd_;
};

TEST_F(DropCachedPagesTest, DropsWrittenPagesAndKeepsThePageBeingAppendedTo) {
  // Eight whole pages and the start of a ninth, on disk, written a page at
  // a time as small appends fill them (each page its own folio: a large
  // folio that straddles `to` is kept whole).
  const off_t size = 8 * kPage + 100;
  const std::string bytes(kPage, 'x');
  for (off_t at = 0; at < size; at += kPage) {
    const size_t n = static_cast<size_t>(std::min(kPage, size - at));
    ASSERT_EQ(::pwrite(fd_.get(), bytes.data(), n, at),
              static_cast<ssize_t>(n));
  }
  ASSERT_EQ(::fdatasync(fd_.get()), 0);
  ASSERT_EQ(CachedPages(fd_.get(), size), std::vector<bool>(9, true));

  DropCachedPages(fd_.get(), size);
  std::vector<bool> expected(9, false);
  expected[8] = true;  // the partial page an append writes into next
  EXPECT_EQ(CachedPages(fd_.get(), size), expected);
}

TEST_F(DropCachedPagesTest, KeepsWhatFollowsTo) {
  // Written a page at a time, so that each page is its own folio.
  const off_t size = 4 * kPage;
  const std::string bytes(kPage, 'y');
  for (off_t at = 0; at < size; at += kPage) {
    ASSERT_EQ(::pwrite(fd_.get(), bytes.data(), bytes.size(), at), kPage);
  }
  ASSERT_EQ(::fdatasync(fd_.get()), 0);
  ASSERT_EQ(CachedPages(fd_.get(), size), std::vector<bool>(4, true));

  // The zeros a journal keeps ahead of its writer are after `to`.
  DropCachedPages(fd_.get(), 2 * kPage);
  EXPECT_EQ(CachedPages(fd_.get(), size),
            (std::vector<bool>{false, false, true, true}));
}

TEST_F(DropCachedPagesTest, AnEmptyRangeDropsNothing) {
  const std::string bytes(kPage, 'z');
  ASSERT_EQ(::pwrite(fd_.get(), bytes.data(), bytes.size(), 0), kPage);
  ASSERT_EQ(::fdatasync(fd_.get()), 0);
  DropCachedPages(fd_.get(), kPage - 1);
  EXPECT_EQ(CachedPages(fd_.get(), kPage), std::vector<bool>{true});
}

}  // namespace
}  // namespace hookstream::journal
