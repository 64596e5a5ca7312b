#include "common/base/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hookstream {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '"' || c == '=' || c == '\\' || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel MinLogLevel() {
  return static_cast<LogLevel>(min_level.load(std::memory_order_relaxed));
}

LogRecord::LogRecord(LogLevel level, absl::string_view message)
    : enabled_(static_cast<int>(level) >=
               min_level.load(std::memory_order_relaxed)) {
  if (!enabled_) return;
  line_.reserve(256);
  absl::StrAppend(&line_, "ts=",
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                   absl::UTCTimeZone()),
                  " level=", LevelName(level), " msg=");
  if (NeedsQuotes(message)) {
    absl::StrAppend(&line_, "\"", absl::CEscape(message), "\"");
  } else {
    absl::StrAppend(&line_, message);
  }
}

LogRecord& LogRecord::Add(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  if (NeedsQuotes(value)) {
    absl::StrAppend(&line_, " ", key, "=\"", absl::CEscape(value), "\"");
  } else {
    absl::StrAppend(&line_, " ", key, "=", value);
  }
  return *this;
}

LogRecord::~LogRecord() {
  if (!enabled_) return;
  line_.push_back('\n');
  // One write per line keeps concurrent lines whole; a short write to a
  // closed or full stderr loses the line, never blocks the caller twice.
  const ssize_t ignored = ::write(STDERR_FILENO, line_.data(), line_.size());
  (void)ignored;
}

}  // namespace hookstream
