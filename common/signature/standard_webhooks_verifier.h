// -----------------------------------------------------------------------------
// File: standard_webhooks_verifier.h
// -----------------------------------------------------------------------------
// StandardWebhooksVerifier: the Standard Webhooks v1 scheme (also Svix's).
//   webhook-id:        the message id
//   webhook-timestamp: unix seconds, as sent
//   webhook-signature: space-separated `v1,<base64 HMAC-SHA256>` entries
// The signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`. Entries
// with other versions (e.g. `v1a,` ed25519) are ignored. The timestamp must
// lie within `tolerance_past` before and `tolerance_future` after `now`
// (default 5 minutes each way), checked before any MAC is computed.
//
// Secrets: the configured text may be `whsec_<base64>` (the Standard Webhooks
// form: the prefix is stripped and the rest base64-decoded to the key bytes)
// or any other text, used as the key bytes as-is.
//
// Example:
//   auto v = StandardWebhooksVerifier::Create(
//       {{"primary", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
//   absl::StatusOr<std::string> label = (*v)->Verify(request, clock.Now());
//
// Thread-safety: immutable; Verify is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/signature/verifier.h"

namespace hookstream {

class StandardWebhooksVerifier final : public Verifier {
 public:
  struct Options {
    absl::Duration tolerance_past = absl::Minutes(5);
    absl::Duration tolerance_future = absl::Minutes(5);
  };

  // INVALID_ARGUMENT when `secrets` fails ValidateSecrets, or a `whsec_`
  // secret is not valid base64.
  static absl::StatusOr<std::unique_ptr<StandardWebhooksVerifier>> Create(
      std::vector<SigningSecret> secrets, Options options);
  static absl::StatusOr<std::unique_ptr<StandardWebhooksVerifier>> Create(
      std::vector<SigningSecret> secrets) {
    return Create(std::move(secrets), Options());
  }

  absl::StatusOr<std::string> Verify(const SignedRequest& request,
                                     absl::Time now) const override;
  absl::string_view scheme() const override { return "standard-webhooks"; }
  size_t secret_count() const override { return secrets_.size(); }

  // The key bytes for a configured secret text (see the banner).
  static absl::StatusOr<std::string> DecodeSecret(absl::string_view text);

 private:
  StandardWebhooksVerifier(std::vector<SigningSecret> secrets, Options options)
      : secrets_(PrepareSecrets(secrets)), options_(options) {}

  const std::vector<PreparedSecret> secrets_;  // keys decoded
  const Options options_;
};

}  // namespace hookstream
