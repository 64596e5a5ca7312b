// -----------------------------------------------------------------------------
// File: authorization.h
// -----------------------------------------------------------------------------
// What an identity may read, applied to a request: pure functions over the
// pattern grammar of hookstream.v1.EventFilter (server/distribution/
// event_filter.h), unit-tested without a network.
//
// RestrictFilter intersects a requested filter with the identity's grant:
//   - `types` empty (everything) → the identity's types; otherwise every
//     requested pattern must lie inside one granted pattern (`customer.*`
//     grants `customer.created`, `customer.tax_id.*` and `customer.*`; `*`
//     grants everything; an exact type only itself), else PERMISSION_DENIED
//     naming the pattern.
//   - `accounts` the same way: empty → the identity's accounts; otherwise
//     each must be granted. An identity without accounts has every account.
// So a request never reads more than the grant, and asking for more is an
// error rather than a silent subset.
//
// Example:
//   ASSIGN_OR_RETURN(v1::EventFilter effective,
//                    RestrictFilter(*identity, request.filter()));
//   if (!MayRead(*identity, event.type, event.account)) → PERMISSION_DENIED
//
// Thread-safety: pure functions.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookstream/v1/event_stream.pb.h"
#include "server/auth/access_policy.h"

namespace hookstream::auth {

// The filter to apply instead of `requested`, or PERMISSION_DENIED.
absl::StatusOr<v1::EventFilter> RestrictFilter(
    const Identity& identity, const v1::EventFilter& requested);

// Whether `identity` may read an event of this type and account.
bool MayRead(const Identity& identity, absl::string_view type,
             absl::string_view account);

// Whether granted pattern `grant` covers requested pattern `request` (both
// in the EventFilter grammar).
bool PatternCovers(absl::string_view grant, absl::string_view request);

}  // namespace hookstream::auth
