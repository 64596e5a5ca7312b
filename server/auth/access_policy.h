// -----------------------------------------------------------------------------
// File: access_policy.h
// -----------------------------------------------------------------------------
// Who may read what from the gRPC port: the parsed `--grpc_access_file`.
//
// File format (JSON; unknown fields are ignored so the file can grow):
//   {"identities": [
//     {"name": "billing",
//      "token_sha256": "<64 hex digits: SHA-256 of the bearer token>",
//      "types": ["customer.*"], "accounts": ["acm_123"]},
//     {"name": "analytics", "client_cert_subject": "CN=analytics",
//      "types": ["*"]}]}
//
// Each identity has a unique `name` (what logs show; never the token), at
// least one way to be recognised (`token_sha256`, `client_cert_subject` or
// both) and a non-empty `types` list in EventFilter's pattern grammar
// (exact, `prefix.*`, `*`). `accounts` absent or empty = every account.
// Tokens are stored only as hashes: FindByToken hashes what the client sent
// and compares it with every identity's hash in constant time, so neither the
// file nor the timing of a refusal tells a token.
//
// Example:
//   ASSIGN_OR_RETURN(AccessPolicy policy, AccessPolicy::Parse(text));
//   const Identity* who = policy.FindByToken(token);  // null: unknown token
//
// Thread-safety: immutable after Parse.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookstream::auth {

// What one subscriber may read. `types` and `accounts` use the grammar of
// hookstream.v1.EventFilter; an empty `accounts` means every account.
struct Identity {
  std::string name = {};
  std::vector<std::string> types = {};
  std::vector<std::string> accounts = {};
};

class AccessPolicy {
 public:
  // INVALID_ARGUMENT naming the first bad entry (by index and name, never a
  // hash).
  static absl::StatusOr<AccessPolicy> Parse(absl::string_view json);

  // The identity whose token hash is SHA-256(token), or null. Compares with
  // every identity in constant time.
  const Identity* FindByToken(absl::string_view token) const;
  // The identity with exactly this client certificate subject, or null.
  const Identity* FindByCertSubject(absl::string_view subject) const;
  // The identity named `name`, or null.
  const Identity* FindByName(absl::string_view name) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Identity identity;
    bool has_token = false;
    std::string token_sha256;  // 32 raw bytes, or empty
    std::string cert_subject;
  };
  std::vector<Entry> entries_;
};

// Lower-case hex SHA-256 of `token`: what `token_sha256` holds.
std::string TokenSha256Hex(absl::string_view token);

}  // namespace hookstream::auth
