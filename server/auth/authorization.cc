#include "server/auth/authorization.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hookstream::auth {
namespace {

// `customer.*` → `customer.`; anything else unchanged.
absl::string_view PrefixOf(absl::string_view pattern) {
  return pattern.substr(0, pattern.size() - 1);
}

bool IsPrefixPattern(absl::string_view pattern) {
  return pattern.size() >= 3 && absl::EndsWith(pattern, ".*");
}

bool Granted(const Identity& identity, absl::string_view pattern) {
  return std::any_of(identity.types.begin(), identity.types.end(),
                     [pattern](const std::string& grant) {
                       return PatternCovers(grant, pattern);
                     });
}

bool AccountGranted(const Identity& identity, absl::string_view account) {
  return identity.accounts.empty() ||
         std::find(identity.accounts.begin(), identity.accounts.end(),
                   account) != identity.accounts.end();
}

}  // namespace

bool PatternCovers(absl::string_view grant, absl::string_view request) {
  if (grant == "*") return true;
  if (request == "*") return false;
  if (!IsPrefixPattern(grant)) return grant == request;
  const absl::string_view prefix = PrefixOf(grant);  // "customer."
  if (IsPrefixPattern(request)) {
    // `customer.tax_id.*` lies inside `customer.*`; `customer.*` itself too.
    return absl::StartsWith(PrefixOf(request), prefix);
  }
  return request.size() > prefix.size() && absl::StartsWith(request, prefix);
}

absl::StatusOr<v1::EventFilter> RestrictFilter(
    const Identity& identity, const v1::EventFilter& requested) {
  v1::EventFilter effective = requested;
  if (requested.types().empty()) {
    for (const std::string& t : identity.types) effective.add_types(t);
  } else {
    for (const std::string& t : requested.types()) {
      if (!Granted(identity, t)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "identity '", identity.name, "' may not read type pattern '",
            t.substr(0, 128), "'"));
      }
    }
  }
  if (requested.accounts().empty()) {
    for (const std::string& a : identity.accounts) effective.add_accounts(a);
  } else {
    for (const std::string& a : requested.accounts()) {
      if (!AccountGranted(identity, a)) {
        return absl::PermissionDeniedError(
            absl::StrCat("identity '", identity.name,
                         "' may not read account '", a.substr(0, 128), "'"));
      }
    }
  }
  return effective;
}

bool MayRead(const Identity& identity, absl::string_view type,
             absl::string_view account) {
  if (!AccountGranted(identity, account)) return false;
  return std::any_of(identity.types.begin(), identity.types.end(),
                     [type](const std::string& grant) {
                       if (grant == "*") return true;
                       if (!IsPrefixPattern(grant)) return grant == type;
                       const absl::string_view prefix = PrefixOf(grant);
                       return type.size() > prefix.size() &&
                              absl::StartsWith(type, prefix);
                     });
}

}  // namespace hookstream::auth
