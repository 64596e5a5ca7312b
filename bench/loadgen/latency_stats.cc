#include "bench/loadgen/latency_stats.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hookstream::bench {

Percentiles ComputePercentiles(std::vector<int64_t> samples) {
  Percentiles p;
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    // Nearest rank: the smallest sample with at least q of them at or below.
    size_t rank = static_cast<size_t>(q * static_cast<double>(samples.size()));
    if (rank >= samples.size()) rank = samples.size() - 1;
    return samples[rank];
  };
  p.count = samples.size();
  p.p50_ns = at(0.50);
  p.p99_ns = at(0.99);
  p.p999_ns = at(0.999);
  p.max_ns = samples.back();
  return p;
}

void JsonLine::Key(absl::string_view key) {
  if (!body_.empty()) body_ += ",";
  absl::StrAppend(&body_, "\"", key, "\":");
}

JsonLine& JsonLine::Add(absl::string_view key, double value) {
  Key(key);
  absl::StrAppend(&body_, absl::StrFormat("%.3f", value));
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, int64_t value) {
  Key(key);
  absl::StrAppend(&body_, value);
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, uint64_t value) {
  Key(key);
  absl::StrAppend(&body_, value);
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, absl::string_view value) {
  Key(key);
  // Values are our own identifiers and messages: escape only what JSON needs.
  std::string escaped;
  for (char c : value) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  absl::StrAppend(&body_, "\"", escaped, "\"");
  return *this;
}

JsonLine& JsonLine::AddPercentilesUs(absl::string_view prefix,
                                     const Percentiles& p) {
  Add(absl::StrCat(prefix, "_samples"), p.count);
  Add(absl::StrCat(prefix, "_p50_us"), p.p50_ns / 1e3);
  Add(absl::StrCat(prefix, "_p99_us"), p.p99_ns / 1e3);
  Add(absl::StrCat(prefix, "_p999_us"), p.p999_ns / 1e3);
  Add(absl::StrCat(prefix, "_max_us"), p.max_ns / 1e3);
  return *this;
}

int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t ProcessRssBytes(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    if (!absl::ConsumePrefix(&v, "VmRSS:")) continue;
    v = absl::StripAsciiWhitespace(v);
    absl::ConsumeSuffix(&v, "kB");
    int64_t kib = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &kib)) {
      return kib * 1024;
    }
  }
  return -1;
}

double ProcessCpuSeconds(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  std::getline(in, stat);
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3, utime 14, stime 15.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  if (fields.size() < 13) return -1;
  int64_t utime = 0, stime = 0;
  if (!absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

int64_t ProcessContextSwitches(int pid) {
  const std::string dir = pid == 0 ? std::string("/proc/self/task")
                                   : absl::StrCat("/proc/", pid, "/task");
  std::error_code error;
  int64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator(dir, error)) {
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view rest(line);
      if (!absl::ConsumePrefix(&rest, "voluntary_ctxt_switches:") &&
          !absl::ConsumePrefix(&rest, "nonvoluntary_ctxt_switches:")) {
        continue;
      }
      int64_t n = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &n)) total += n;
    }
  }
  return error ? -1 : total;
}

}  // namespace hookstream::bench
