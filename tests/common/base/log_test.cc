#include "common/base/log.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace hookstream
