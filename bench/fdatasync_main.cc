// bench_fdatasync: what one append + fdatasync costs on the disk under a
// directory, for the three ways a journal segment can be laid out (the
// journal's preallocation, docs/journal.md): a file that grows with every
// write ("extend"), one whose blocks were fallocate'd as unwritten extents
// ("fallocate"), and one zero-filled and synced beforehand ("zeroed", what
// the journal does under --journal_sync=fsync). One JSON line per layout
// and round, latencies in microseconds.
//
//   bench_fdatasync --dir=/var/lib/hookstream --writes=3000 --bytes=16384
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, dir, "/tmp", "directory on the disk to measure");
ABSL_FLAG(int, writes, 3000, "appends (each followed by fdatasync) per run");
ABSL_FLAG(int, bytes, 16384, "bytes per append (about one group commit)");
ABSL_FLAG(int, rounds, 2, "rounds of the three layouts, interleaved");

namespace {

enum class Layout { kExtend, kFallocate, kZeroed };

const char* Name(Layout layout) {
  switch (layout) {
    case Layout::kExtend:
      return "extend";
    case Layout::kFallocate:
      return "fallocate";
    case Layout::kZeroed:
      return "zeroed";
  }
  return "?";
}

bool Run(Layout layout, int round) {
  const std::string path =
      absl::StrCat(absl::GetFlag(FLAGS_dir), "/bench_fdatasync.", getpid());
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    return false;
  }
  const size_t bytes = static_cast<size_t>(absl::GetFlag(FLAGS_bytes));
  const int writes = absl::GetFlag(FLAGS_writes);
  const off_t size = static_cast<off_t>(bytes) * writes;
  bool ok = true;
  if (layout == Layout::kFallocate) {
    ok = ::fallocate(fd, 0, 0, size) == 0 && ::fsync(fd) == 0;
  } else if (layout == Layout::kZeroed) {
    const std::string zeros(size_t{1} << 20, '\0');
    for (off_t at = 0; ok && at < size; at += zeros.size()) {
      ok = ::pwrite(fd, zeros.data(), zeros.size(), at) ==
           static_cast<ssize_t>(zeros.size());
    }
    ok = ok && ::fsync(fd) == 0;
  }
  const std::string record(bytes, 'x');
  std::vector<double> micros;
  micros.reserve(writes);
  for (int i = 0; ok && i < writes; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ok = ::pwrite(fd, record.data(), bytes, static_cast<off_t>(i) * bytes) ==
             static_cast<ssize_t>(bytes) &&
         ::fdatasync(fd) == 0;
    micros.push_back(std::chrono::duration<double, std::micro>(
                         std::chrono::steady_clock::now() - start)
                         .count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (!ok) {
    std::perror(Name(layout));
    return false;
  }
  double total = 0;
  for (double m : micros) total += m;
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) {
    return micros[static_cast<size_t>(q * (micros.size() - 1))];
  };
  std::printf(
      "{\"layout\":\"%s\",\"round\":%d,\"writes\":%d,\"bytes\":%zu,"
      "\"mean_us\":%.0f,\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f}\n",
      Name(layout), round, writes, bytes, total / micros.size(), at(0.5),
      at(0.9), at(0.99));
  std::fflush(stdout);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  for (int round = 1; round <= absl::GetFlag(FLAGS_rounds); ++round) {
    for (Layout layout :
         {Layout::kExtend, Layout::kFallocate, Layout::kZeroed}) {
      if (!Run(layout, round)) return 1;
    }
  }
  return 0;
}
