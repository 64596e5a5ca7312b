#include "common/conversion/money.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

struct DecimalCase {
  const char* text;
  int64_t units;
  int32_t nanos;
  bool truncated;
};

class ParseDecimalTest : public ::testing::TestWithParam<DecimalCase> {};

// Verifies that each valid JSON number yields exactly the expected units and
// nanos (and whether digits were dropped), without floating point.
TEST_P(ParseDecimalTest, SplitsIntoUnitsAndNanos) {
  const DecimalCase& c = GetParam();
  absl::StatusOr<UnitsAndNanos> got = ParseDecimal(c.text);
  ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
  EXPECT_EQ(got->units, c.units) << c.text;
  EXPECT_EQ(got->nanos, c.nanos) << c.text;
  EXPECT_EQ(got->truncated, c.truncated) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Numbers, ParseDecimalTest,
    ::testing::Values(
        DecimalCase{"19.78", 19, 780000000, false},
        DecimalCase{"38.95", 38, 950000000, false},
        DecimalCase{"104", 104, 0, false}, DecimalCase{"0", 0, 0, false},
        DecimalCase{"-0", 0, 0, false}, DecimalCase{"0.01", 0, 10000000, false},
        DecimalCase{"-19.78", -19, -780000000, false},
        DecimalCase{"-0.5", 0, -500000000, false},
        DecimalCase{"1e2", 100, 0, false}, DecimalCase{"1E+2", 100, 0, false},
        DecimalCase{"12.5e1", 125, 0, false},
        DecimalCase{"1.5E-3", 0, 1500000, false},
        DecimalCase{"-2.5e-1", 0, -250000000, false},
        DecimalCase{"123456e-3", 123, 456000000, false},
        DecimalCase{"0.123456789", 0, 123456789, false},
        DecimalCase{"0.1234567891", 0, 123456789, true},
        DecimalCase{"0.1234567890000", 0, 123456789, false},
        DecimalCase{"-0.0000000019", 0, -1, true},
        DecimalCase{"1e-10", 0, 0, true},
        DecimalCase{"1e-999999999999", 0, 0, true},
        DecimalCase{"0e999999999999", 0, 0, false},
        DecimalCase{"1e18", 1000000000000000000, 0, false},
        DecimalCase{"9223372036854775807", std::numeric_limits<int64_t>::max(),
                    0, false},
        DecimalCase{"-9223372036854775808", std::numeric_limits<int64_t>::min(),
                    0, false},
        DecimalCase{"9223372036854775807.999999999",
                    std::numeric_limits<int64_t>::max(), 999999999, false}));

// Verifies that magnitudes beyond int64 units are OUT_OF_RANGE rather than
// wrapped or saturated.
TEST(ParseDecimalTest, RejectsWholePartsBeyondInt64) {
  for (const char* text :
       {"9223372036854775808", "-9223372036854775809", "1e19", "1e999999999999",
        "123456789012345678901234567890", "-1.5e300"}) {
    EXPECT_THAT(ParseDecimal(text), StatusIs(absl::StatusCode::kOutOfRange))
        << text;
  }
}

// Verifies that anything outside RFC 8259's number grammar is refused.
TEST(ParseDecimalTest, RejectsTextThatIsNotAJsonNumber) {
  for (const char* text :
       {"",     "-",     "+1",  "01",    "-01", "1.",  ".5",
        "1e",   "1e+",   "abc", " 1",    "1 ",  "NaN", "Infinity",
        "0x10", "1.2.3", "1,5", "1e2.5", "--1", "١٢"}) {
    EXPECT_THAT(ParseDecimal(text), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("not a JSON number")))
        << text;
  }
}

// Verifies exactness over every cent value up to 100000.00: the value a
// double would round (e.g. 0.29 → 0.28999…) must still come out exact.
TEST(ParseDecimalTest, EveryCentValueIsExact) {
  for (int64_t cents = 0; cents <= 10'000'000; cents += 7) {
    const std::string text =
        absl::StrFormat("%d.%02d", cents / 100, cents % 100);
    absl::StatusOr<UnitsAndNanos> got = ParseDecimal(text);
    ASSERT_TRUE(got.ok()) << text;
    ASSERT_EQ(got->units, cents / 100) << text;
    ASSERT_EQ(got->nanos, (cents % 100) * 10'000'000) << text;
  }
}

// Verifies that MakeAmount keeps the received text byte for byte, including
// exponent forms, and fills units/nanos from it.
TEST(MakeAmountTest, KeepsTextAndFillsUnitsAndNanos) {
  std::optional<v1::Amount> a = MakeAmount("19.78");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->decimal(), "19.78");
  EXPECT_EQ(a->units(), 19);
  EXPECT_EQ(a->nanos(), 780000000);

  a = MakeAmount("1e2");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->decimal(), "1e2");
  EXPECT_EQ(a->units(), 100);
  EXPECT_EQ(a->nanos(), 0);

  a = MakeAmount("-0.25");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->units(), 0);
  EXPECT_EQ(a->nanos(), -250000000);
}

// Verifies that an amount too large for int64 keeps only its decimal text.
TEST(MakeAmountTest, OutOfRangeKeepsOnlyDecimal) {
  std::optional<v1::Amount> a = MakeAmount("123456789012345678901234567890.5");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->decimal(), "123456789012345678901234567890.5");
  EXPECT_EQ(a->units(), 0);
  EXPECT_EQ(a->nanos(), 0);
}

// Verifies that non-numbers give no Amount at all.
TEST(MakeAmountTest, NonNumberGivesNothing) {
  EXPECT_FALSE(MakeAmount("abc").has_value());
  EXPECT_FALSE(MakeAmount("").has_value());
  EXPECT_FALSE(MakeAmount("19,78").has_value());
}

}  // namespace
}  // namespace hookstream
