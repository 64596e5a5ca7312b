#include "common/signature/verifier.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

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

}  // namespace hookstream
