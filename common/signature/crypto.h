// -----------------------------------------------------------------------------
// File: crypto.h
// -----------------------------------------------------------------------------
// The cryptographic primitives the signature verifiers need, and the only
// place in common/ that includes OpenSSL: HMAC-SHA256, a constant-time
// comparison, and strict hex / base64 codecs.
//
// Example:
//   std::string mac = HmacSha256(secret, body);           // 32 raw bytes
//   std::optional<std::string> sent = DecodeHex(header);  // nullopt if not hex
//   bool ok = sent && ConstantTimeEquals(*sent, mac);
//
// Thread-safety: all functions are thread-safe (no shared state).
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace hookstream {

inline constexpr size_t kSha256Bytes = 32;

// HMAC-SHA256 of `data` keyed with `key`; returns the 32 raw MAC bytes.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// True when `a` and `b` have the same length and bytes. The time taken
// depends only on the lengths, never on where the first difference is.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Decodes hex digits (either case, no separators, even length); nullopt when
// any character is not a hex digit.
std::optional<std::string> DecodeHex(absl::string_view hex);

// Decodes base64 in the standard (`+/`) or URL-safe (`-_`) alphabet, with or
// without `=` padding (padding, when present, must be correct). nullopt on any
// other character, misplaced padding or non-zero trailing bits.
std::optional<std::string> DecodeBase64(absl::string_view text);

// Lower-case hex and standard padded base64 (for senders and tests).
std::string EncodeHex(absl::string_view bytes);
std::string EncodeBase64(absl::string_view bytes);

}  // namespace hookstream
