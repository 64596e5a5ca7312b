// -----------------------------------------------------------------------------
// File: crypto.h
// -----------------------------------------------------------------------------
// The cryptographic primitives the signature verifiers need, and the only
// place in common/ that includes OpenSSL: HMAC-SHA256, a constant-time
// comparison, and strict hex / base64 codecs.
//
// Example:
//   std::string mac = HmacSha256(secret, body);           // 32 raw bytes
//   const HmacSha256Key key(secret);                       // once per secret
//   std::string same = key.Mac(body);                      // per request
//   std::optional<std::string> sent = DecodeHex(header);  // nullopt if not hex
//   bool ok = sent && ConstantTimeEquals(*sent, mac);
//
// Thread-safety: all functions are thread-safe; an HmacSha256Key may be
// shared by any number of threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace hookstream {

inline constexpr size_t kSha256Bytes = 32;

// SHA-256 of `data`: the 32 raw digest bytes.
std::string Sha256(absl::string_view data);

// HMAC-SHA256 of `data` keyed with `key`; returns the 32 raw MAC bytes.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// A key prepared once for many HMAC-SHA256 computations. OpenSSL 3's
// one-shot HMAC() looks the algorithm up, allocates and keys a fresh context
// on every call, which costs more than hashing a 1 KB body; here the keyed
// context is built once and each Mac() works on a copy of it.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(absl::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(HmacSha256Key&& other) noexcept;
  HmacSha256Key& operator=(HmacSha256Key&& other) noexcept;

  // The 32 raw MAC bytes; empty only if OpenSSL itself fails, which then
  // never matches a received signature (verification fails closed).
  std::string Mac(absl::string_view data) const;

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

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
