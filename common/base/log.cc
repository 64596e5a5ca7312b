#include "common/base/log.h"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hookstream {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> json_format{false};

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

// Appends `value` as a JSON string (with its quotes). Bytes that do not form
// UTF-8 become U+FFFD, so the line stays valid JSON whatever a client sent.
void AppendJsonString(absl::string_view value, std::string& out) {
  out.push_back('"');
  for (size_t i = 0; i < value.size();) {
    const auto u = static_cast<unsigned char>(value[i]);
    if (u < 0x80) {
      if (u == '"' || u == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(u));
      } else if (u < 0x20 || u == 0x7f) {
        absl::StrAppend(&out, "\\u00", absl::Hex(u, absl::kZeroPad2));
      } else {
        out.push_back(static_cast<char>(u));
      }
      ++i;
      continue;
    }
    // The length a lead byte announces, and whether its continuation bytes
    // follow (overlong forms and surrogates are not worth the code here:
    // JSON parsers accept them as text).
    const size_t len = u >= 0xf0 && u < 0xf5   ? 4
                       : u >= 0xe0             ? 3
                       : u >= 0xc2 && u < 0xe0 ? 2
                                               : 0;
    bool ok = len != 0 && i + len <= value.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(value[i + k]) & 0xc0) == 0x80;
    }
    if (ok) {
      out.append(value.data() + i, len);
      i += len;
    } else {
      out.append("\xef\xbf\xbd");  // U+FFFD
      ++i;
    }
  }
  out.push_back('"');
}

}  // namespace

void SetLogFormat(LogFormat format) {
  json_format.store(format == LogFormat::kJson, std::memory_order_relaxed);
}

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
  json_ = json_format.load(std::memory_order_relaxed);
  if (json_) {
    absl::StrAppend(&line_, "{\"ts\":\"",
                    absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                     absl::UTCTimeZone()),
                    "\",\"level\":\"", LevelName(level), "\",\"msg\":");
    AppendJsonString(message, line_);
    return;
  }
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

void LogRecord::AddRaw(absl::string_view key, absl::string_view text) {
  if (json_) {
    line_.push_back(',');
    AppendJsonString(key, line_);
    absl::StrAppend(&line_, ":", text);
  } else {
    absl::StrAppend(&line_, " ", key, "=", text);
  }
}

LogRecord& LogRecord::Add(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  if (json_) {
    line_.push_back(',');
    AppendJsonString(key, line_);
    line_.push_back(':');
    AppendJsonString(value, line_);
    return *this;
  }
  if (NeedsQuotes(value)) {
    absl::StrAppend(&line_, " ", key, "=\"", absl::CEscape(value), "\"");
  } else {
    absl::StrAppend(&line_, " ", key, "=", value);
  }
  return *this;
}

LogRecord::~LogRecord() {
  if (!enabled_) return;
  if (json_) line_.push_back('}');
  line_.push_back('\n');
  // One write per line keeps concurrent lines whole; a short write to a
  // closed or full stderr loses the line, never blocks the caller twice.
  const ssize_t ignored = ::write(STDERR_FILENO, line_.data(), line_.size());
  (void)ignored;
}

bool LogLimiter::Allow(absl::Time now, uint64_t* suppressed) {
  absl::MutexLock lock(&mu_);
  if (now < next_) {
    ++dropped_;
    return false;
  }
  next_ = now + interval_;
  *suppressed = std::exchange(dropped_, 0);
  return true;
}

}  // namespace hookstream
