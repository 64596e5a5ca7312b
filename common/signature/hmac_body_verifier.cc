#include "common/signature/hmac_body_verifier.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/signature/crypto.h"

namespace hookstream {
namespace {

// A received candidate as raw MAC bytes, or nullopt when it is neither a
// 32-byte hex nor a 32-byte base64 encoding.
std::optional<std::string> DecodeCandidate(absl::string_view candidate) {
  for (absl::string_view prefix : {"sha256=", "v1="}) {
    if (absl::StartsWithIgnoreCase(candidate, prefix)) {
      candidate.remove_prefix(prefix.size());
      break;
    }
  }
  // 64 hex digits are also valid base64 (of 48 bytes), so try hex first; a
  // 32-byte base64 encoding is 43 or 44 characters and never parses as hex.
  if (candidate.size() == 2 * kSha256Bytes) {
    if (std::optional<std::string> mac = DecodeHex(candidate)) return mac;
  }
  std::optional<std::string> mac = DecodeBase64(candidate);
  if (mac && mac->size() == kSha256Bytes) return mac;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HmacBodyVerifier>> HmacBodyVerifier::Create(
    std::vector<SigningSecret> secrets, Options options) {
  if (absl::Status s = ValidateSecrets(secrets); !s.ok()) return s;
  if (options.header.empty()) {
    return absl::InvalidArgumentError("signature header name is empty");
  }
  options.header = absl::AsciiStrToLower(options.header);
  return std::unique_ptr<HmacBodyVerifier>(
      new HmacBodyVerifier(std::move(secrets), std::move(options)));
}

absl::StatusOr<std::string> HmacBodyVerifier::Verify(
    const SignedRequest& request, absl::Time /*now*/) const {
  const std::optional<absl::string_view> header =
      request.header(options_.header);
  if (!header.has_value() || absl::StripAsciiWhitespace(*header).empty()) {
    return VerifyFailure(kReasonMissingSignature,
                         absl::StrCat("no ", options_.header, " header"));
  }
  std::vector<std::string> received;
  for (absl::string_view candidate :
       absl::StrSplit(*header, absl::ByAnyChar(", \t"), absl::SkipEmpty())) {
    if (std::optional<std::string> mac = DecodeCandidate(candidate)) {
      received.push_back(*std::move(mac));
    }
    // A sender has no reason to send more than a handful; bound the work an
    // unauthenticated request can cause.
    if (received.size() >= 8) break;
  }
  if (received.empty()) {
    return VerifyFailure(
        kReasonMalformedSignature,
        absl::StrCat(options_.header,
                     " holds no 32-byte hex or base64 HMAC-SHA256"));
  }
  return MatchSecret(secrets_, request.body, received, "signature");
}

}  // namespace hookstream
