// -----------------------------------------------------------------------------
// File: log.h
// -----------------------------------------------------------------------------
// The one structured logger: one `key=value` line per record on stderr,
// written with a single write(2) so lines from concurrent threads never
// interleave. (Debian 12's Abseil has no absl/log.)
//
// Example:
//   LogRecord(LogLevel::kInfo, "webhook")
//       .Add("request_id", id).Add("status", 200).Add("latency_us", 412);
//   // ts=2026-11-28T13:22:01.123456Z level=info msg=webhook request_id=…
//
// Values with spaces, quotes, `=` or control characters are quoted and
// escaped, so a line always parses back into the same pairs. Never log
// secrets or request bodies.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace hookstream {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Records below this level are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

// LogRecord
//
// Collects pairs and emits the line when destroyed. Not thread-safe itself;
// build it on one thread (it is meant to be a temporary).
class LogRecord {
 public:
  LogRecord(LogLevel level, absl::string_view message);
  ~LogRecord();

  LogRecord(const LogRecord&) = delete;
  LogRecord& operator=(const LogRecord&) = delete;

  LogRecord& Add(absl::string_view key, absl::string_view value);
  LogRecord& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  LogRecord& Add(absl::string_view key, const std::string& value) {
    return Add(key, absl::string_view(value));
  }
  LogRecord& Add(absl::string_view key, bool value) {
    return Add(key, absl::string_view(value ? "true" : "false"));
  }
  template <typename T>
  LogRecord& Add(absl::string_view key,
                 T value) requires std::is_arithmetic_v<T> {
    if (enabled_) absl::StrAppend(&line_, " ", key, "=", value);
    return *this;
  }

 private:
  bool enabled_;
  std::string line_;
};

}  // namespace hookstream
