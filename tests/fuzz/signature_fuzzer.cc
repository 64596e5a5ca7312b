// Signature header parsing (common/signature): the input is
// "<x-webhook-signature>\n<webhook-id>\n<webhook-timestamp>\n<webhook-signature>\n<body>",
// verified by both schemes. Never crashes; a request either matches the one
// secret (its label) or is refused UNAUTHENTICATED with a reason.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "common/signature/hmac_body_verifier.h"
#include "common/signature/standard_webhooks_verifier.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef";
constexpr int64_t kNow = 1733267345;

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (const std::string& body : hookstream::fuzz::SeedBodies()) {
    const std::string hex =
        hookstream::EncodeHex(hookstream::HmacSha256(kSecret, body));
    const std::string id = "msg_1";
    const std::string ts = absl::StrCat(kNow);
    const std::string sw = absl::StrCat(
        "v1,", absl::Base64Escape(hookstream::HmacSha256(
                   kSecret, absl::StrCat(id, ".", ts, ".", body))));
    seeds.push_back(absl::StrCat("sha256=", hex, "\n", id, "\n", ts, "\n", sw,
                                 " v1,AAAA\n", body));
    seeds.push_back(absl::StrCat(hex, ",", hex, "\n\n\n\n", body));
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hookstream::fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* hmac =
      hookstream::HmacBodyVerifier::Create({{"current", kSecret}})->release();
  static const auto* standard =
      hookstream::StandardWebhooksVerifier::Create({{"current", kSecret}})
          ->release();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts =
      absl::StrSplit(input, absl::MaxSplits('\n', 4));
  while (parts.size() < 5) parts.push_back("");
  const absl::string_view body = parts[4];
  auto lookup =
      [&](absl::string_view name) -> std::optional<absl::string_view> {
    if (name == "x-webhook-signature") return parts[0];
    if (name == "webhook-id") return parts[1];
    if (name == "webhook-timestamp") return parts[2];
    if (name == "webhook-signature") return parts[3];
    return std::nullopt;
  };
  const hookstream::SignedRequest request{.header = lookup, .body = body};
  for (const hookstream::Verifier* v :
       {static_cast<const hookstream::Verifier*>(hmac),
        static_cast<const hookstream::Verifier*>(standard)}) {
    absl::StatusOr<std::string> label =
        v->Verify(request, absl::FromUnixSeconds(kNow));
    if (label.ok()) {
      HOOKSTREAM_FUZZ_CHECK(*label == "current");
    } else {
      HOOKSTREAM_FUZZ_CHECK(absl::IsUnauthenticated(label.status()));
      HOOKSTREAM_FUZZ_CHECK(
          !hookstream::VerifyFailureReason(label.status()).empty());
    }
  }
  return 0;
}
