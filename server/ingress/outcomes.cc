#include "server/ingress/outcomes.h"

namespace hookstream::ingress {
namespace {

// Status codes follow ../shared/design/ingress-anchors.md (b): the sender's
// retry logic is the only reader, so 2xx means "never resend", 4xx "your
// request is wrong", 5xx "try again later". Never 3xx or 410.
constexpr std::array<OutcomeInfo, kOutcomeCount> kTable = {{
    {Outcome::kAccepted, 200, "", "accepted", false},
    {Outcome::kDuplicate, 200, "", "duplicate", false},
    {Outcome::kMalformedJson, 400, "bad_request", "bad_json", false},
    {Outcome::kBadRequest, 400, "bad_request", "bad_http", true},
    {Outcome::kMissingSignature, 401, "unauthenticated", "missing_signature",
     false},
    {Outcome::kBadSignature, 401, "unauthenticated", "bad_signature", false},
    {Outcome::kStaleTimestamp, 401, "unauthenticated", "stale_timestamp",
     false},
    {Outcome::kUnknownPath, 404, "not_found", "unknown_path", false},
    {Outcome::kMethodNotAllowed, 405, "method_not_allowed",
     "method_not_allowed", false},
    {Outcome::kRequestTimeout, 408, "timeout", "timeout", true},
    {Outcome::kLengthRequired, 411, "length_required", "length_required", true},
    {Outcome::kPayloadTooLarge, 413, "payload_too_large", "too_large", true},
    {Outcome::kUnsupportedMediaType, 415, "unsupported_media_type",
     "unsupported_media_type", false},
    {Outcome::kMissingFields, 422, "unprocessable", "missing_fields", false},
    {Outcome::kEventIdTooLong, 422, "unprocessable", "id_too_long", false},
    {Outcome::kRateLimited, 429, "too_many_requests", "rate_limited", false},
    {Outcome::kHeadersTooLarge, 431, "headers_too_large", "headers_too_large",
     true},
    {Outcome::kInternal, 500, "internal", "internal", false},
    {Outcome::kUnavailable, 503, "unavailable", "unavailable", false},
    {Outcome::kDraining, 503, "unavailable", "draining", true},
    {Outcome::kClientClosed, 0, "", "client_closed", true},
    // The body was within --max_body_bytes but its typed conversion (Struct
    // inflates, e.g. ~7x for an array of zeros) would not fit a default gRPC
    // client: 4xx, so the sender does not retry what can never be served.
    {Outcome::kEventTooLarge, 413, "payload_too_large", "event_too_large",
     false},
}};

constexpr bool TableIsInEnumOrder() {
  for (size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<size_t>(kTable[i].outcome) != i) return false;
  }
  return true;
}
static_assert(TableIsInEnumOrder(), "outcome rows must follow the enum");

}  // namespace

const OutcomeInfo& GetOutcomeInfo(Outcome outcome) {
  return kTable[static_cast<size_t>(outcome)];
}

const std::array<OutcomeInfo, kOutcomeCount>& AllOutcomes() { return kTable; }

}  // namespace hookstream::ingress
