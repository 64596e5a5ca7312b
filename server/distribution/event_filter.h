// -----------------------------------------------------------------------------
// File: event_filter.h
// -----------------------------------------------------------------------------
// EventFilter decides which events a subscriber or a listing wants: a pure,
// validated predicate over StoredEvent built from a `hookstream.v1.
// EventFilter`. It reads only the fields the ring copied out of each event
// (type, account), so matching never parses event bytes.
//
// Patterns in `types`: an exact type (`customer.created`), a prefix pattern
// ending in `.*` (`customer.*` matches `customer.created` and
// `customer.tax_id.created`, not `customer`), or `*` alone (everything).
// Any other use of `*`, an empty pattern or an empty account is
// INVALID_ARGUMENT. Within a list any entry may match (OR); `types` and
// `accounts` must both match (AND); an empty list matches everything.
//
// Example:
//   ASSIGN_OR_RETURN(EventFilter filter,
//   EventFilter::Create(request.filter())); reader.Read(position, options,
//               [&](const StoredEvent& e) { return filter.Matches(e); });
//
// Thread-safety: immutable after Create; Matches may be called concurrently.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/store/stored_event.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::distribution {

// How large a filter a client may send (checked before anything is
// compiled, so a huge filter costs one pass over it). Defaults are the
// server's flag defaults (docs/security.md).
struct FilterLimits {
  size_t max_types = 256;
  size_t max_accounts = 1000;
  // Sum of the lengths of every pattern and account.
  size_t max_bytes = size_t{32} << 10;
};

// INVALID_ARGUMENT naming the limit (and its flag) that `proto` exceeds.
absl::Status CheckFilterLimits(const v1::EventFilter& proto,
                               const FilterLimits& limits);

class EventFilter {
 public:
  // Validates `proto` and compiles it. INVALID_ARGUMENT names the first bad
  // entry.
  static absl::StatusOr<EventFilter> Create(const v1::EventFilter& proto);

  // A filter that matches every event.
  EventFilter() = default;

  bool Matches(const StoredEvent& event) const {
    return MatchesType(event.type) && MatchesAccount(event.account);
  }
  bool MatchesType(absl::string_view type) const;
  bool MatchesAccount(absl::string_view account) const;

  // True when every event matches (no restriction at all).
  bool MatchesAll() const { return all_types_ && accounts_.empty(); }

 private:
  bool all_types_ = true;
  absl::flat_hash_set<std::string> exact_types_;
  // Each ends with '.': `customer.*` is kept as `customer.`.
  std::vector<std::string> type_prefixes_;
  absl::flat_hash_set<std::string> accounts_;
};

}  // namespace hookstream::distribution
