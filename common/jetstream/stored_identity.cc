#include "common/jetstream/stored_identity.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace hookstream::jetstream {
namespace {

constexpr absl::string_view kStartFormat = "%Y-%m-%dT%H:%M:%E*SZ";
constexpr absl::string_view kStartKey = "start=";

// `YYYYMMDDTHHMMSSZ-<16 lowercase hex>`, the shape every epoch has.
bool IsEpoch(absl::string_view epoch) {
  if (epoch.size() != 33) return false;
  for (size_t i = 0; i < epoch.size(); ++i) {
    const char c = epoch[i];
    bool ok = false;
    if (i < 8 || (i > 8 && i < 15)) {
      ok = absl::ascii_isdigit(c);
    } else if (i == 8) {
      ok = c == 'T';
    } else if (i == 15) {
      ok = c == 'Z';
    } else if (i == 16) {
      ok = c == '-';
    } else {
      ok = absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string FormatStoredIdentity(const StreamIdentity& identity) {
  return absl::StrCat(
      kStoredIdentityPrefix, identity.epoch, " ", kStartKey,
      absl::FormatTime(kStartFormat, identity.start_time, absl::UTCTimeZone()));
}

absl::StatusOr<StreamIdentity> ParseStoredIdentity(
    absl::string_view description) {
  if (description.empty()) {
    return absl::NotFoundError("the stream stores no hookstream identity");
  }
  const std::string quoted = absl::StrCat("description \"", description, "\"");
  if (!absl::StartsWith(description, kStoredIdentityPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted, " is not hookstream's stream identity"));
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(description.substr(kStoredIdentityPrefix.size()), ' ');
  StreamIdentity identity;
  std::string error;
  if (fields.size() != 2 || !IsEpoch(fields[0]) ||
      !absl::StartsWith(fields[1], kStartKey) ||
      !absl::ParseTime(kStartFormat, fields[1].substr(kStartKey.size()),
                       &identity.start_time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        quoted, " is not a well-formed hookstream identity (",
        kStoredIdentityPrefix, "<epoch> ", kStartKey, "<RFC 3339 time>)"));
  }
  identity.epoch = std::string(fields[0]);
  return identity;
}

StreamIdentity IdentityOfStream(absl::string_view name, int64_t created_ns) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64
  auto mix = [&hash](absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 0x100000001b3ull;
    }
  };
  mix(name);
  mix(":");
  mix(absl::StrCat(created_ns));
  const absl::Time created = absl::FromUnixNanos(created_ns);
  return StreamIdentity{
      .epoch = absl::StrCat(
          absl::FormatTime("%Y%m%dT%H%M%SZ", created, absl::UTCTimeZone()), "-",
          absl::StrFormat("%016x", hash)),
      .start_time = created};
}

}  // namespace hookstream::jetstream
