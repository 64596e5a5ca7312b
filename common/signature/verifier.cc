#include "common/signature/verifier.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/signature/crypto.h"

namespace hookstream {

absl::string_view VerifyFailureReason(const absl::Status& status) {
  if (status.ok()) return "";
  const absl::string_view message = status.message();
  return message.substr(0, message.find(':'));
}

absl::Status VerifyFailure(absl::string_view reason, absl::string_view detail) {
  return absl::UnauthenticatedError(absl::StrCat(reason, ": ", detail));
}

absl::Status ValidateSecrets(const std::vector<SigningSecret>& secrets) {
  if (secrets.empty()) {
    return absl::InvalidArgumentError("no signing secret configured");
  }
  absl::flat_hash_set<absl::string_view> labels;
  for (const SigningSecret& secret : secrets) {
    if (secret.label.empty()) {
      return absl::InvalidArgumentError("a signing secret has an empty label");
    }
    if (secret.key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signing secret '", secret.label, "' is empty"));
    }
    if (!labels.insert(secret.label).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signing secret label '", secret.label, "' is used more than once"));
    }
  }
  return absl::OkStatus();
}

std::vector<PreparedSecret> PrepareSecrets(
    const std::vector<SigningSecret>& secrets) {
  std::vector<PreparedSecret> prepared;
  prepared.reserve(secrets.size());
  for (const SigningSecret& secret : secrets) {
    prepared.push_back({secret.label, HmacSha256Key(secret.key)});
  }
  return prepared;
}

absl::StatusOr<std::string> MatchSecret(
    const std::vector<PreparedSecret>& secrets, absl::string_view signed_bytes,
    const std::vector<std::string>& received, absl::string_view what) {
  for (const PreparedSecret& secret : secrets) {
    const std::string expected = secret.key.Mac(signed_bytes);
    bool match = false;
    // Compare against every candidate without stopping early, so timing
    // does not reveal which candidate matched.
    for (const std::string& mac : received) {
      match |= ConstantTimeEquals(mac, expected);
    }
    if (match) return secret.label;
  }
  return VerifyFailure(
      kReasonBadSignature,
      absl::StrCat(received.size(), " ", what, "(s) matched none of ",
                   secrets.size(), " secret(s)"));
}

}  // namespace hookstream
