#include "server/auth/access_policy.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/signature/crypto.h"
#include "nlohmann/json.hpp"

namespace hookstream::auth {
namespace {

bool ParseHexDigest(absl::string_view hex, std::string* out) {
  if (hex.size() != 2 * kSha256Bytes) return false;
  std::optional<std::string> bytes = DecodeHex(hex);
  if (!bytes) return false;
  *out = *std::move(bytes);
  return true;
}

// A list of non-empty strings under `key` (absent: empty).
absl::StatusOr<std::vector<std::string>> StringList(
    const nlohmann::json& object, const char* key, absl::string_view where) {
  std::vector<std::string> out;
  const auto it = object.find(key);
  if (it == object.end()) return out;
  if (!it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"", key, "\" must be a list of strings"));
  }
  for (const nlohmann::json& item : *it) {
    if (!item.is_string() || item.get<std::string>().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": \"", key, "\" must hold only non-empty strings"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// The pattern grammar of hookstream.v1.EventFilter (event_filter.h).
bool IsTypePattern(absl::string_view p) {
  if (p == "*") return true;
  const size_t star = p.find('*');
  if (star == absl::string_view::npos) return true;
  return star == p.size() - 1 && p.size() >= 3 && p[p.size() - 2] == '.';
}

}  // namespace

std::string TokenSha256Hex(absl::string_view token) {
  return EncodeHex(Sha256(token));
}

absl::StatusOr<AccessPolicy> AccessPolicy::Parse(absl::string_view json) {
  const nlohmann::json doc =
      nlohmann::json::parse(json.begin(), json.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("access file is not valid JSON");
  }
  const auto identities = doc.is_object() ? doc.find("identities") : doc.end();
  if (identities == doc.end() || !identities->is_array()) {
    return absl::InvalidArgumentError(
        "access file: want {\"identities\": [ ... ]}");
  }
  AccessPolicy policy;
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < identities->size(); ++i) {
    const nlohmann::json& item = (*identities)[i];
    std::string where = absl::StrCat("access file: identity ", i);
    if (!item.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is no object"));
    }
    Entry entry;
    const auto name = item.find("name");
    if (name == item.end() || !name->is_string() ||
        name->get<std::string>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"name\" must be a non-empty string"));
    }
    entry.identity.name = name->get<std::string>();
    absl::StrAppend(&where, " (", entry.identity.name, ")");
    if (!names.insert(entry.identity.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the name is used twice"));
    }
    if (const auto hash = item.find("token_sha256"); hash != item.end()) {
      if (!hash->is_string() ||
          !ParseHexDigest(hash->get<std::string>(), &entry.token_sha256)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where,
            ": \"token_sha256\" must be 64 hex digits (sha256sum of the "
            "token)"));
      }
      entry.has_token = true;
    }
    if (const auto subject = item.find("client_cert_subject");
        subject != item.end()) {
      if (!subject->is_string() || subject->get<std::string>().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": \"client_cert_subject\" must be a non-empty string"));
      }
      entry.cert_subject = subject->get<std::string>();
    }
    if (!entry.has_token && entry.cert_subject.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": give \"token_sha256\" or \"client_cert_subject\""));
    }
    absl::StatusOr<std::vector<std::string>> types =
        StringList(item, "types", where);
    if (!types.ok()) return types.status();
    if (types->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": \"types\" must list what it may read ([\"*\"]: all)"));
    }
    for (const std::string& t : *types) {
      if (!IsTypePattern(t)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": bad type pattern '", t,
            "': use an exact type, a prefix ending in '.*', or '*'"));
      }
    }
    absl::StatusOr<std::vector<std::string>> accounts =
        StringList(item, "accounts", where);
    if (!accounts.ok()) return accounts.status();
    entry.identity.types = *std::move(types);
    entry.identity.accounts = *std::move(accounts);
    policy.entries_.push_back(std::move(entry));
  }
  return policy;
}

const Identity* AccessPolicy::FindByToken(absl::string_view token) const {
  const std::string digest = Sha256(token);
  const Identity* found = nullptr;
  // Every entry is compared (no early exit) in constant time, so the time
  // taken says nothing about which hash, or how much of one, matched.
  for (const Entry& entry : entries_) {
    const bool match = ConstantTimeEquals(digest, entry.token_sha256);
    if (match && entry.has_token && found == nullptr) {
      found = &entry.identity;
    }
  }
  return found;
}

const Identity* AccessPolicy::FindByCertSubject(
    absl::string_view subject) const {
  for (const Entry& entry : entries_) {
    if (!entry.cert_subject.empty() && entry.cert_subject == subject) {
      return &entry.identity;
    }
  }
  return nullptr;
}

const Identity* AccessPolicy::FindByName(absl::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.identity.name == name) return &entry.identity;
  }
  return nullptr;
}

}  // namespace hookstream::auth
