#include "common/signature/standard_webhooks_verifier.h"

#include <cstdint>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/signature/crypto.h"

namespace hookstream {
namespace {

constexpr absl::string_view kIdHeader = "webhook-id";
constexpr absl::string_view kTimestampHeader = "webhook-timestamp";
constexpr absl::string_view kSignatureHeader = "webhook-signature";
constexpr absl::string_view kSecretPrefix = "whsec_";

}  // namespace

absl::StatusOr<std::string> StandardWebhooksVerifier::DecodeSecret(
    absl::string_view text) {
  if (!absl::StartsWith(text, kSecretPrefix)) return std::string(text);
  std::optional<std::string> key =
      DecodeBase64(text.substr(kSecretPrefix.size()));
  if (!key.has_value() || key->empty()) {
    return absl::InvalidArgumentError(
        "a whsec_ secret is not valid base64 after its prefix");
  }
  return *std::move(key);
}

absl::StatusOr<std::unique_ptr<StandardWebhooksVerifier>>
StandardWebhooksVerifier::Create(std::vector<SigningSecret> secrets,
                                 Options options) {
  if (absl::Status s = ValidateSecrets(secrets); !s.ok()) return s;
  for (SigningSecret& secret : secrets) {
    absl::StatusOr<std::string> key = DecodeSecret(secret.key);
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signing secret '", secret.label, "': ", key.status().message()));
    }
    secret.key = *std::move(key);
  }
  if (options.tolerance_past < absl::ZeroDuration() ||
      options.tolerance_future < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timestamp tolerance is negative");
  }
  return std::unique_ptr<StandardWebhooksVerifier>(
      new StandardWebhooksVerifier(std::move(secrets), options));
}

absl::StatusOr<std::string> StandardWebhooksVerifier::Verify(
    const SignedRequest& request, absl::Time now) const {
  const std::optional<absl::string_view> id = request.header(kIdHeader);
  const std::optional<absl::string_view> timestamp =
      request.header(kTimestampHeader);
  const std::optional<absl::string_view> signature =
      request.header(kSignatureHeader);
  for (const auto& [name, value] :
       {std::pair{kIdHeader, id}, std::pair{kTimestampHeader, timestamp},
        std::pair{kSignatureHeader, signature}}) {
    if (!value.has_value() || value->empty()) {
      return VerifyFailure(kReasonMissingSignature,
                           absl::StrCat("no ", name, " header"));
    }
  }

  int64_t seconds = 0;
  if (!absl::SimpleAtoi(*timestamp, &seconds) ||
      !absl::ascii_isdigit(timestamp->front())) {
    return VerifyFailure(kReasonMalformedSignature,
                         "webhook-timestamp is not unix seconds");
  }
  const absl::Time sent = absl::FromUnixSeconds(seconds);
  if (sent < now - options_.tolerance_past) {
    return VerifyFailure(
        kReasonTimestampTooOld,
        absl::StrCat("webhook-timestamp is ", absl::ToInt64Seconds(now - sent),
                     "s in the past"));
  }
  if (sent > now + options_.tolerance_future) {
    return VerifyFailure(
        kReasonTimestampTooNew,
        absl::StrCat("webhook-timestamp is ", absl::ToInt64Seconds(sent - now),
                     "s in the future"));
  }

  std::vector<std::string> received;
  for (absl::string_view entry :
       absl::StrSplit(*signature, ' ', absl::SkipEmpty())) {
    const size_t comma = entry.find(',');
    if (comma == absl::string_view::npos || entry.substr(0, comma) != "v1") {
      continue;
    }
    std::optional<std::string> mac = DecodeBase64(entry.substr(comma + 1));
    if (mac.has_value() && mac->size() == kSha256Bytes) {
      received.push_back(*std::move(mac));
    }
    if (received.size() >= 8) break;
  }
  if (received.empty()) {
    return VerifyFailure(kReasonMalformedSignature,
                         "webhook-signature holds no v1,<base64> entry");
  }

  const std::string content =
      absl::StrCat(*id, ".", *timestamp, ".", request.body);
  return MatchSecret(secrets_, content, received, "v1 signature");
}

}  // namespace hookstream
