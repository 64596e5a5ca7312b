#include "client/cli/samples.h"

#include <algorithm>
#include <cstddef>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hookstream::cli {

// Generated from client/cli/samples/*.json (cmake/embed_files.cmake).
extern const EmbeddedFile kSamples[];
extern const size_t kSamples_count;

namespace {

// Replaces the value of the first `"key": "PREFIX…"` string field in `json`
// with `value`. The samples are ours, written as `"key": "value"`.
bool ReplaceStringField(std::string& json, absl::string_view key,
                        absl::string_view prefix, absl::string_view value) {
  const std::string needle = absl::StrCat("\"", key, "\": \"", prefix);
  const size_t at = json.find(needle);
  if (at == std::string::npos) return false;
  const size_t start = at + needle.size() - prefix.size();
  const size_t end = json.find('"', start);
  if (end == std::string::npos) return false;
  json.replace(start, end - start, value.data(), value.size());
  return true;
}

std::string RandomHex(absl::BitGen& gen, int digits) {
  std::string out;
  for (int i = 0; i < digits; ++i) {
    out.push_back("0123456789abcdef"[absl::Uniform(gen, 0, 16)]);
  }
  return out;
}

}  // namespace

absl::Span<const EmbeddedFile> Samples() {
  return absl::MakeConstSpan(kSamples, kSamples_count);
}

const EmbeddedFile* FindSample(absl::string_view type) {
  for (const EmbeddedFile& f : Samples()) {
    if (type == f.name) return &f;
  }
  return nullptr;
}

std::vector<std::string> KnownEventTypes() {
  std::vector<std::string> types;
  for (const EmbeddedFile& f : Samples()) types.emplace_back(f.name);
  std::sort(types.begin(), types.end());
  return types;
}

DeliveryIds NewDeliveryIds() {
  absl::BitGen gen;
  return {absl::StrCat("evt_", RandomHex(gen, 24)),
          absl::StrCat("wha_", RandomHex(gen, 24))};
}

std::optional<std::string> FreshDelivery(absl::string_view sample,
                                         const DeliveryIds& ids,
                                         absl::Time created,
                                         absl::string_view account) {
  std::string json(sample);
  // The envelope's `created` is the only one written as a string (the
  // object's is a number), and comes before `data`.
  if (!ReplaceStringField(json, "id", "evt_", ids.event_id) ||
      !ReplaceStringField(json, "attemptId", "wha_", ids.attempt_id) ||
      !ReplaceStringField(json, "created", "",
                          absl::StrCat(absl::ToUnixSeconds(created)))) {
    return std::nullopt;
  }
  if (!account.empty() &&
      !ReplaceStringField(json, "account", "acm_", account)) {
    return std::nullopt;
  }
  return json;
}

}  // namespace hookstream::cli
