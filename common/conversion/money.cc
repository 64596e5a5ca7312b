#include "common/conversion/money.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookstream {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exponents beyond this only ever produce zero or overflow; capping them
// keeps the arithmetic below in int64 whatever the input says.
constexpr int64_t kMaxExponent = 1'000'000;

}  // namespace

absl::StatusOr<UnitsAndNanos> ParseDecimal(absl::string_view text) {
  // Split the text into sign, digit runs and exponent while checking the
  // RFC 8259 grammar.
  size_t i = 0;
  const size_t n = text.size();
  const bool negative = i < n && text[i] == '-';
  if (negative) ++i;
  const size_t int_begin = i;
  while (i < n && IsDigit(text[i])) ++i;
  const absl::string_view int_digits = text.substr(int_begin, i - int_begin);
  if (int_digits.empty() || (int_digits.size() > 1 && int_digits[0] == '0')) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON number: \"", text, "\""));
  }
  absl::string_view frac_digits;
  if (i < n && text[i] == '.') {
    const size_t frac_begin = ++i;
    while (i < n && IsDigit(text[i])) ++i;
    frac_digits = text.substr(frac_begin, i - frac_begin);
    if (frac_digits.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a JSON number: \"", text, "\""));
    }
  }
  int64_t exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    const size_t exp_begin = i;
    while (i < n && IsDigit(text[i])) {
      if (exponent < kMaxExponent) exponent = exponent * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_begin) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a JSON number: \"", text, "\""));
    }
    if (exponent > kMaxExponent) exponent = kMaxExponent;
    if (exp_negative) exponent = -exponent;
  }
  if (i != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON number: \"", text, "\""));
  }

  // The value is 0.DDDD… × 10^point, where D are int_digits then
  // frac_digits; digit k (0-based) has weight 10^(point - 1 - k).
  const int64_t total = static_cast<int64_t>(int_digits.size()) +
                        static_cast<int64_t>(frac_digits.size());
  const int64_t point = static_cast<int64_t>(int_digits.size()) + exponent;
  auto digit_at = [&](int64_t k) -> int {
    if (k < 0 || k >= total) return 0;
    const size_t idx = static_cast<size_t>(k);
    return idx < int_digits.size() ? int_digits[idx] - '0'
                                   : frac_digits[idx - int_digits.size()] - '0';
  };

  // Whole part, accumulated as a magnitude; -2^63 is representable, +2^63
  // is not.
  const uint64_t limit =
      negative ? uint64_t{1} << 63
               : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t magnitude = 0;
  for (int64_t k = 0; k < point; ++k) {
    const int d = digit_at(k);
    // Past the last digit only zeros follow: a zero whole part stays zero,
    // so stop instead of walking a huge exponent.
    if (k >= total && magnitude == 0) break;
    if (magnitude > (limit - static_cast<uint64_t>(d)) / 10) {
      return absl::OutOfRangeError(
          absl::StrCat("amount does not fit 64-bit units: \"", text, "\""));
    }
    magnitude = magnitude * 10 + static_cast<uint64_t>(d);
  }

  UnitsAndNanos out;
  int32_t nanos = 0;
  for (int64_t k = point; k < point + 9; ++k) nanos = nanos * 10 + digit_at(k);
  for (int64_t k = std::max<int64_t>(point + 9, 0); k < total; ++k) {
    if (digit_at(k) != 0) {
      out.truncated = true;
      break;
    }
  }
  if (negative) {
    // Two's complement negation of the magnitude is exact even for 2^63.
    out.units = static_cast<int64_t>(~magnitude + 1);
    out.nanos = -nanos;
  } else {
    out.units = static_cast<int64_t>(magnitude);
    out.nanos = nanos;
  }
  return out;
}

std::optional<v1::Amount> MakeAmount(absl::string_view text) {
  absl::StatusOr<UnitsAndNanos> parsed = ParseDecimal(text);
  if (!parsed.ok() && parsed.status().code() != absl::StatusCode::kOutOfRange) {
    return std::nullopt;
  }
  v1::Amount amount;
  amount.set_decimal(std::string(text));
  if (parsed.ok()) {
    amount.set_units(parsed->units);
    amount.set_nanos(parsed->nanos);
  }
  return amount;
}

}  // namespace hookstream
