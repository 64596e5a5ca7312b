// -----------------------------------------------------------------------------
// File: money.h
// -----------------------------------------------------------------------------
// Exact decimal amounts. GETTRX sends amounts as JSON numbers (`19.78`,
// `104`); hookstream keeps the number's text exactly as received and derives
// whole units and billionths from that text with integer arithmetic only:
// never through a binary double, so `19.78` is 19 units and 780000000 nanos,
// not 19.780000000000001.
//
// Rules (what ParseDecimal accepts and how it rounds):
// - Syntax is RFC 8259's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?
//   ([eE][+-]?[0-9]+)?`. No leading `+`, no leading zeros, no spaces, no
//   `NaN`/`Infinity`. The same grammar applies to amounts sent as strings.
// - Exponent forms are evaluated exactly: `1e2` is 100 units, `1.5E-3` is
//   1500000 nanos. Amount.decimal still keeps the text (`1e2`) unchanged.
// - Digits past the ninth decimal place are truncated toward zero in
//   units/nanos (`0.1234567891` → nanos 123456789) and kept only in the text.
// - units and nanos carry the same sign (`-0.5` → units 0, nanos -500000000).
// - A magnitude that does not fit int64 units is OUT_OF_RANGE; MakeAmount then
//   keeps only `decimal` (units and nanos stay 0).
//
// Example:
//   std::optional<v1::Amount> a = MakeAmount("19.78");
//   // a->decimal() == "19.78", a->units() == 19, a->nanos() == 780000000
//
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookstream/v1/gettrx.pb.h"

namespace hookstream {

// A decimal number split into whole units and billionths of a unit, both with
// the number's sign.
struct UnitsAndNanos {
  int64_t units = 0;
  int32_t nanos = 0;
  // True when non-zero digits past the ninth decimal place were dropped.
  bool truncated = false;
};

// Parses JSON-number text exactly (rules above). INVALID_ARGUMENT when `text`
// is not a JSON number; OUT_OF_RANGE when the whole part does not fit int64.
absl::StatusOr<UnitsAndNanos> ParseDecimal(absl::string_view text);

// Builds an Amount from JSON-number text: `decimal` is `text` byte for byte;
// `units`/`nanos` are set when ParseDecimal succeeds, left 0 when it is out
// of range. Returns nullopt when `text` is not a JSON number at all.
std::optional<v1::Amount> MakeAmount(absl::string_view text);

}  // namespace hookstream
