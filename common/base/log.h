// -----------------------------------------------------------------------------
// File: log.h
// -----------------------------------------------------------------------------
// The one structured logger: one line per record on stderr, logfmt
// (`key=value`, the default) or JSON (one object per line, for log
// shippers; SetLogFormat), written with a single write(2) so lines from
// concurrent threads never interleave. (Debian 12's Abseil has no absl/log.)
//
// Example:
//   LogRecord(LogLevel::kInfo, "webhook")
//       .Add("request_id", id).Add("status", 200).Add("latency_us", 412);
//   // ts=2026-11-28T13:22:01.123456Z level=info msg=webhook request_id=…
//
//   // {"ts":"2026-11-28T13:22:01.123456Z","level":"info","msg":"webhook",
//   //  "request_id":"…","status":200,"latency_us":412}      (JSON)
//
// logfmt: values with spaces, quotes, `=` or control characters are quoted
// and escaped, so a line always parses back into the same pairs. JSON:
// numbers and booleans stay JSON numbers and booleans; strings are escaped,
// bytes that are not UTF-8 become U+FFFD, so every line is valid JSON.
// Never log secrets or request bodies.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hookstream {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Records below this level are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

enum class LogFormat { kLogfmt = 0, kJson = 1 };

// The format of every line from now on. Default kLogfmt. Set it before
// starting threads (a record started before the change keeps its format).
void SetLogFormat(LogFormat format);

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
    if (enabled_) AddRaw(key, value ? "true" : "false");
    return *this;
  }
  template <typename T>
  LogRecord& Add(absl::string_view key,
                 T value) requires std::is_arithmetic_v<T> {
    if (!enabled_) return *this;
    if constexpr (std::is_floating_point_v<T>) {
      // JSON has no inf or nan.
      if (!(value - value == 0)) return Add(key, absl::StrCat(value));
    }
    AddRaw(key, absl::StrCat(value));
    return *this;
  }

 private:
  // `text` is a number or boolean literal, written without quotes.
  void AddRaw(absl::string_view key, absl::string_view text);

  bool enabled_;
  bool json_ = false;
  std::string line_;
};

// LogLimiter
//
// At most one line per `interval` for one class of failure, so a flood (of
// refused connections, failed handshakes) cannot fill the disk: Allow says
// whether to write this one and how many were suppressed since the last,
// which the line should carry.
//
//   uint64_t suppressed = 0;
//   if (refused_log_.Allow(absl::Now(), &suppressed)) {
//     LogRecord(LogLevel::kWarning, "connection refused")
//         .Add("reason", reason).Add("suppressed", suppressed);
//   }
//
// Thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(absl::Duration interval) : interval_(interval) {}

  bool Allow(absl::Time now, uint64_t* suppressed);

 private:
  const absl::Duration interval_;
  absl::Mutex mu_;
  absl::Time next_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hookstream
