// -----------------------------------------------------------------------------
// File: hmac_body_verifier.h
// -----------------------------------------------------------------------------
// HmacBodyVerifier: the default strategy for GETTRX One. The signature header
// (default `x-webhook-signature`) carries HMAC-SHA256 over the raw body bytes,
// keyed with the secret's text as-is.
//
// Accepted header forms (GETTRX One does not document the exact encoding):
//   - hex, either case (64 digits), or base64 (standard or URL-safe alphabet,
//     padded or not; 32 bytes once decoded);
//   - optionally prefixed with `sha256=` or `v1=` (prefix case-insensitive);
//   - several candidates separated by commas and/or spaces (a sender rolling
//     its secret may send one per secret); any one matching is enough.
// Candidates that decode to something other than 32 bytes are ignored; if
// none decodes, the failure reason is `malformed_signature`.
//
// There is no timestamp in this scheme: replay is bounded by the ring's dedup
// window, not by the signature.
//
// Example:
//   auto v = HmacBodyVerifier::Create({{"current", "s3cret"},
//                                      {"previous", "old"}});
//   absl::StatusOr<std::string> label = (*v)->Verify(request, now);
//
// Thread-safety: immutable; Verify is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/signature/verifier.h"

namespace hookstream {

class HmacBodyVerifier final : public Verifier {
 public:
  struct Options {
    // Lower-case header name.
    std::string header = "x-webhook-signature";
  };

  // INVALID_ARGUMENT when `secrets` fails ValidateSecrets.
  static absl::StatusOr<std::unique_ptr<HmacBodyVerifier>> Create(
      std::vector<SigningSecret> secrets, Options options);
  static absl::StatusOr<std::unique_ptr<HmacBodyVerifier>> Create(
      std::vector<SigningSecret> secrets) {
    return Create(std::move(secrets), Options());
  }

  absl::StatusOr<std::string> Verify(const SignedRequest& request,
                                     absl::Time now) const override;
  absl::string_view scheme() const override { return "hmac-sha256"; }
  size_t secret_count() const override { return secrets_.size(); }

 private:
  HmacBodyVerifier(std::vector<SigningSecret> secrets, Options options)
      : secrets_(PrepareSecrets(secrets)), options_(std::move(options)) {}

  const std::vector<PreparedSecret> secrets_;
  const Options options_;
};

}  // namespace hookstream
