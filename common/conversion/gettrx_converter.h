// -----------------------------------------------------------------------------
// File: gettrx_converter.h
// -----------------------------------------------------------------------------
// ConvertGettrxEvent turns one GETTRX One webhook body into a typed
// hookstream.v1.Event. It is a pure function of its inputs: no I/O, no clock
// (the caller passes when the body arrived), no exceptions.
//
// Example:
//   absl::StatusOr<v1::Event> event =
//       ConvertGettrxEvent(request.body(), clock.Now());
//   if (!event.ok()) return HttpStatusFor(event.status());  // 400 or 422
//
// What it fills:
//   source = "gettrx"; id, type (required, see errors); account; attempt_id
//   (`attemptId`); created (envelope `created`: unix seconds as a string or
//   number, or unix milliseconds when the whole part has 13+ digits, i.e.
//   |value| >= 10^12; unreadable → unset); received_at; idempotency_key
//   (`request.idempotencyKey`); previous_attributes (`data.previousAttributes`
//   as a Struct, only when it is an object); object_type (`data.object.object`
//   or `data.object._object`); raw_json = `body` byte for byte; and the `data`
//   oneof, typed by the object's kind:
//     - the object's `object`/`_object` when it is a non-empty string:
//       customer, refund, payment_request, setup_request, payment_method,
//       application or application.<anything>; any other name → `other`;
//     - otherwise the part of `type` before the first dot (customer.*,
//       refund.*, ...), anything else → `other`;
//     - `other` holds data.object as a Struct, so unknown kinds flow through;
//     - no data.object, or one that is not an object → `data` unset.
//   `sequence` and `stream_epoch` are left for the ring to assign.
//
// Tolerance: fields inside the object are read with json_readers.h (missing,
// null or oddly typed → that one field unset; numbers as strings and back;
// `_object`; amounts exact via money.h). Nothing but the errors below ever
// fails an event, and raw_json keeps whatever the typed fields could not.
//
// Errors (the ingress maps the code to the HTTP status; nothing else is
// returned):
//   INVALID_ARGUMENT    → HTTP 400. The body is not usable JSON: empty, not
//                         valid UTF-8, malformed (message names the byte,
//                         line and column), top-level value not an object,
//                         or nested deeper than kDefaultMaxJsonDepth (32).
//   FAILED_PRECONDITION → HTTP 422. Valid JSON object, but `id` or `type` is
//                         missing, null, empty or not a string; the message
//                         names the field.
//   RESOURCE_EXHAUSTED  → HTTP 503. Out of memory while parsing (never seen
//                         with the ingress's body size limit).
//
// Cost: one simdjson On-Demand parse (which also validates UTF-8) into a
// compact tree, one walk of the tree to fill the Event; the body is never
// re-serialized. Only a refused body is looked at again (nlohmann/json
// locates the syntax error, our own check names an invalid UTF-8 byte).
//
// Thread-safety: safe to call concurrently from any thread.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream {

// The Event.source value this converter sets.
inline constexpr absl::string_view kGettrxSource = "gettrx";

absl::StatusOr<v1::Event> ConvertGettrxEvent(absl::string_view body,
                                             absl::Time received_at);

}  // namespace hookstream
