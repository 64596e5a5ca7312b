#include "common/base/log.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace hookstream {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Verifies that a record is one line of key=value pairs, with values that
// need it quoted and escaped.
TEST(LogRecordTest, WritesOneQuotedLine) {
  ::testing::internal::CaptureStderr();
  LogRecord(LogLevel::kInfo, "webhook")
      .Add("status", 200)
      .Add("reason", "bad signature")
      .Add("id", "evt_1")
      .Add("quote", "a\"b\nc")
      .Add("empty", "");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(out, StartsWith("ts="));
  EXPECT_THAT(out, HasSubstr(" level=info msg=webhook status=200"));
  EXPECT_THAT(out, HasSubstr(" reason=\"bad signature\" id=evt_1"));
  EXPECT_THAT(out, HasSubstr(" quote=\"a\\\"b\\nc\" empty=\"\"\n"));
  EXPECT_THAT(out, EndsWith("\n"));
  EXPECT_EQ(out.find('\n'), out.size() - 1);
}

// Verifies that records below the minimum level are dropped.
TEST(LogRecordTest, DropsBelowMinLevel) {
  SetMinLogLevel(LogLevel::kWarning);
  ::testing::internal::CaptureStderr();
  LogRecord(LogLevel::kInfo, "quiet").Add("k", 1);
  LogRecord(LogLevel::kError, "loud").Add("k", 2);
  const std::string out = ::testing::internal::GetCapturedStderr();
  SetMinLogLevel(LogLevel::kInfo);
  EXPECT_THAT(out, Not(HasSubstr("quiet")));
  EXPECT_THAT(out, HasSubstr("level=error msg=loud k=2"));
}

// Verifies --log_format=json: one object per line that a JSON parser reads
// back into the same fields, numbers and booleans typed, control characters
// escaped and bytes that are not UTF-8 replaced (a client's event id may be
// anything).
TEST(LogRecordTest, JsonFormatIsOneValidObjectPerLine) {
  SetLogFormat(LogFormat::kJson);
  ::testing::internal::CaptureStderr();
  LogRecord(LogLevel::kWarning, "webhook \"refused\"")
      .Add("status", 401)
      .Add("tls", true)
      .Add("ratio", 0.5)
      .Add("id", "evt_\x01\n\xff\xc3\xa9")
      .Add("back\\slash", "");
  const std::string out = ::testing::internal::GetCapturedStderr();
  SetLogFormat(LogFormat::kLogfmt);
  ASSERT_EQ(out.find('\n'), out.size() - 1);
  const nlohmann::json line = nlohmann::json::parse(out);
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["msg"], "webhook \"refused\"");
  EXPECT_EQ(line["status"], 401);
  EXPECT_EQ(line["tls"], true);
  EXPECT_EQ(line["ratio"], 0.5);
  EXPECT_EQ(line["id"], "evt_\x01\n\xef\xbf\xbd\xc3\xa9");
  EXPECT_EQ(line["back\\slash"], "");
  EXPECT_THAT(std::string(line["ts"]), EndsWith("Z"));
}

// Verifies that a LogLimiter lets one line per interval through and that the
// next one carries how many were suppressed in between.
TEST(LogLimiterTest, OneLinePerIntervalWithTheSuppressedCount) {
  LogLimiter limiter(absl::Seconds(10));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow(t0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_FALSE(limiter.Allow(t0 + absl::Seconds(9), &suppressed));
  }
  EXPECT_TRUE(limiter.Allow(t0 + absl::Seconds(10), &suppressed));
  EXPECT_EQ(suppressed, 500u);
  EXPECT_FALSE(limiter.Allow(t0 + absl::Seconds(11), &suppressed));
  EXPECT_TRUE(limiter.Allow(t0 + absl::Seconds(25), &suppressed));
  EXPECT_EQ(suppressed, 1u);
}

}  // namespace
}  // namespace hookstream
