// -----------------------------------------------------------------------------
// File: samples.h
// -----------------------------------------------------------------------------
// The sample GETTRX deliveries `hookstream trigger` sends, one per documented
// event type (client/cli/samples/*.json, embedded in the binary at build
// time so they are found from any directory), and what they tell the CLI:
// the documented event types, against which `--types` is checked.
//
// Example:
//   const EmbeddedFile* sample = FindSample("customer.created");
//   std::string body = FreshDelivery(sample->contents, NewIds(), absl::Now());
//
// Thread-safety: immutable data and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace hookstream::cli {

struct EmbeddedFile {
  // The event type, e.g. "customer.created".
  const char* name;
  const char* contents;
};

// Every sample, sorted by type.
absl::Span<const EmbeddedFile> Samples();

// The sample of `type`, or nullptr.
const EmbeddedFile* FindSample(absl::string_view type);

// The documented event types (the samples' names), sorted.
std::vector<std::string> KnownEventTypes();

// The ids a fresh delivery carries.
struct DeliveryIds {
  std::string event_id;    // evt_ + 24 hex digits
  std::string attempt_id;  // wha_ + 24 hex digits
};

// New random ids in GETTRX's format.
DeliveryIds NewDeliveryIds();

// `sample` with its event id, attempt id and envelope `created` (unix
// seconds, as a string) replaced, and its `account` when `account` is not
// empty; nullopt when the sample lacks one of them.
std::optional<std::string> FreshDelivery(absl::string_view sample,
                                         const DeliveryIds& ids,
                                         absl::Time created,
                                         absl::string_view account = "");

}  // namespace hookstream::cli
