// -----------------------------------------------------------------------------
// File: verifier.h
// -----------------------------------------------------------------------------
// The signature-verification strategy interface. A verifier holds the
// secrets of one webhook source (several at once while a secret is rotated,
// each with a label) and checks one request against them, over the raw body
// bytes exactly as received.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Verifier> v,
//                    HmacBodyVerifier::Create({{"2026-11", "s3cret"}}));
//   SignedRequest request{.header = lookup, .body = raw_body};
//   absl::StatusOr<std::string> label = v->Verify(request, clock.Now());
//   // OK: the label of the secret that matched (log it, count it).
//   // UNAUTHENTICATED: message "<reason>: <detail>", see VerifyFailureReason.
//
// Failure messages start with a short reason code (kReason* below) so that
// callers can count and log them without parsing prose; the detail never
// contains a secret or a computed MAC.
//
// Thread-safety: Verify is const and thread-safe; a verifier is immutable
// after creation and may be shared by all I/O threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"

namespace hookstream {

// One signing secret. `key` holds the raw key bytes the MAC is computed with
// (each strategy documents how it derives them from the configured text).
struct SigningSecret {
  std::string label;
  std::string key;
};

// Looks up a request header by its lower-case name; nullopt when absent.
using HeaderLookup =
    absl::FunctionRef<std::optional<absl::string_view>(absl::string_view)>;

// What a verifier sees of a request: its headers and the raw body bytes.
// Both must outlive the Verify call (nothing is kept).
struct SignedRequest {
  HeaderLookup header;
  absl::string_view body;
};

// Reason codes that prefix UNAUTHENTICATED messages.
inline constexpr absl::string_view kReasonMissingSignature =
    "missing_signature";
inline constexpr absl::string_view kReasonMalformedSignature =
    "malformed_signature";
inline constexpr absl::string_view kReasonBadSignature = "bad_signature";
inline constexpr absl::string_view kReasonTimestampTooOld = "timestamp_too_old";
inline constexpr absl::string_view kReasonTimestampTooNew = "timestamp_too_new";

class Verifier {
 public:
  virtual ~Verifier() = default;

  // Returns the label of the first configured secret whose signature the
  // request carries, or UNAUTHENTICATED with a "<reason>: <detail>" message.
  virtual absl::StatusOr<std::string> Verify(const SignedRequest& request,
                                             absl::Time now) const = 0;

  // The strategy's name, e.g. "hmac-sha256" (for logs).
  virtual absl::string_view scheme() const = 0;

  // How many secrets are active.
  virtual size_t secret_count() const = 0;
};

// The reason code of a Verify failure (the text before the first ':'), or
// "" for an OK status.
absl::string_view VerifyFailureReason(const absl::Status& status);

// Builds an UNAUTHENTICATED status "<reason>: <detail>".
absl::Status VerifyFailure(absl::string_view reason, absl::string_view detail);

// Checks what every strategy requires of its secrets: at least one, every
// key non-empty, labels non-empty and unique.
absl::Status ValidateSecrets(const std::vector<SigningSecret>& secrets);

// A secret with its HMAC-SHA256 key prepared for repeated use.
struct PreparedSecret {
  std::string label;
  HmacSha256Key key;
};
std::vector<PreparedSecret> PrepareSecrets(
    const std::vector<SigningSecret>& secrets);

// The label of the first secret whose HMAC-SHA256 of `signed_bytes` equals
// one of the `received` MACs, compared in constant time against every
// candidate; otherwise UNAUTHENTICATED (bad_signature) naming `what`.
absl::StatusOr<std::string> MatchSecret(
    const std::vector<PreparedSecret>& secrets, absl::string_view signed_bytes,
    const std::vector<std::string>& received, absl::string_view what);

}  // namespace hookstream
