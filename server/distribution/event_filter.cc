#include "server/distribution/event_filter.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hookstream::distribution {

absl::Status CheckFilterLimits(const v1::EventFilter& proto,
                               const FilterLimits& limits) {
  if (static_cast<size_t>(proto.types_size()) > limits.max_types) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter.types has ", proto.types_size(), " patterns; at most ",
        limits.max_types, " are accepted (--grpc_max_filter_types)"));
  }
  if (static_cast<size_t>(proto.accounts_size()) > limits.max_accounts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter.accounts has ", proto.accounts_size(), " accounts; at most ",
        limits.max_accounts, " are accepted (--grpc_max_filter_accounts)"));
  }
  size_t bytes = 0;
  for (const std::string& t : proto.types()) bytes += t.size();
  for (const std::string& a : proto.accounts()) bytes += a.size();
  if (bytes > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the filter holds ", bytes, " bytes; at most ", limits.max_bytes,
        " are accepted (--grpc_max_filter_bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EventFilter> EventFilter::Create(const v1::EventFilter& proto) {
  EventFilter filter;
  bool any_type_listed = false;
  bool star = false;
  for (const std::string& pattern : proto.types()) {
    any_type_listed = true;
    if (pattern.empty()) {
      return absl::InvalidArgumentError("filter.types: empty type pattern");
    }
    if (pattern == "*") {
      star = true;
      continue;
    }
    const size_t first_star = pattern.find('*');
    if (first_star == std::string::npos) {
      filter.exact_types_.insert(pattern);
      continue;
    }
    // The only other place a `*` may appear is a final `.*` after a
    // non-empty prefix.
    if (first_star != pattern.size() - 1 || pattern.size() < 3 ||
        pattern[pattern.size() - 2] != '.') {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.types: bad type pattern '", pattern,
                       "': use an exact type, a prefix ending in '.*' "
                       "(e.g. 'customer.*'), or '*'"));
    }
    filter.type_prefixes_.push_back(pattern.substr(0, pattern.size() - 1));
  }
  filter.all_types_ = !any_type_listed || star;
  if (filter.all_types_) {
    filter.exact_types_.clear();
    filter.type_prefixes_.clear();
  }
  for (const std::string& account : proto.accounts()) {
    if (account.empty()) {
      return absl::InvalidArgumentError("filter.accounts: empty account");
    }
    filter.accounts_.insert(account);
  }
  return filter;
}

bool EventFilter::MatchesType(absl::string_view type) const {
  if (all_types_) return true;
  if (exact_types_.contains(type)) return true;
  for (const std::string& prefix : type_prefixes_) {
    if (type.size() > prefix.size() && absl::StartsWith(type, prefix)) {
      return true;
    }
  }
  return false;
}

bool EventFilter::MatchesAccount(absl::string_view account) const {
  return accounts_.empty() || accounts_.contains(account);
}

}  // namespace hookstream::distribution
