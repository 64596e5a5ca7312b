// -----------------------------------------------------------------------------
// File: outcomes.h
// -----------------------------------------------------------------------------
// Every way an ingress request can end, declared once. Each outcome maps to
// one row: the HTTP status sent, the short error code put in the body, the
// metric/log label (also the body's machine-readable `reason`; the
// free-text detail goes only to the log), and whether the connection is
// closed after the answer. Adding a case is one enum value and
// one row in outcomes.cc.
//
// Example:
//   const OutcomeInfo& row = GetOutcomeInfo(Outcome::kBadSignature);
//   // row.http_status == 401, row.error_code == "unauthenticated",
//   // row.label == "bad_signature"
//
// Thread-safety: the table is immutable.
#pragma once

#include <array>
#include <cstddef>

#include "absl/strings/string_view.h"

namespace hookstream::ingress {

enum class Outcome {
  kAccepted,              // 200, appended
  kDuplicate,             // 200, event id seen before; nothing appended
  kMalformedJson,         // 400, body not JSON / not UTF-8 / not an object
  kBadRequest,            // 400, HTTP framing the parser refused
  kMissingSignature,      // 401
  kBadSignature,          // 401, malformed or matching no secret
  kStaleTimestamp,        // 401, outside the tolerance (past or future)
  kUnknownPath,           // 404
  kMethodNotAllowed,      // 405 + Allow: POST
  kRequestTimeout,        // 408, then close
  kLengthRequired,        // 411, no Content-Length or chunked
  kPayloadTooLarge,       // 413, then close
  kUnsupportedMediaType,  // 415
  kMissingFields,         // 422, JSON without a usable id or type
  kEventIdTooLong,        // 422, an event id over --max_event_id_bytes
  kRateLimited,           // 429 + Retry-After: the peer's request rate
  kHeadersTooLarge,       // 431, then close
  kInternal,              // 500
  kUnavailable,           // 503 + Retry-After: our own trouble, retry later
  kDraining,              // 503 + Retry-After, then close
  kClientClosed,          // no answer: the client went away mid-request
  kEventTooLarge,         // 413: the converted event's encoding is too large
};

inline constexpr size_t kOutcomeCount =
    static_cast<size_t>(Outcome::kEventTooLarge) + 1;

struct OutcomeInfo {
  Outcome outcome;
  // 0 when no answer is sent.
  int http_status;
  // The body's `error` value; empty for 2xx.
  absl::string_view error_code;
  // The log `reason`, the metric label, and the body's `reason`.
  absl::string_view label;
  // Close the connection after answering (the request's body may be unread,
  // or the client is misbehaving).
  bool close_connection;
};

const OutcomeInfo& GetOutcomeInfo(Outcome outcome);

// All rows, in enum order.
const std::array<OutcomeInfo, kOutcomeCount>& AllOutcomes();

}  // namespace hookstream::ingress
