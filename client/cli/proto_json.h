// -----------------------------------------------------------------------------
// File: proto_json.h
// -----------------------------------------------------------------------------
// JSON for people and scripts: the proto3 JSON mapping with the proto field
// names (`stream_epoch`), except that 64-bit integers are JSON numbers (as
// the ingress prints `{"sequence":42}`, not "42") and `raw_json` is the
// webhook body itself, embedded as JSON, rather than base64.
//
// Example:
//   std::cout << ToJson(event) << "\n";             // one line
//   std::cout << ToJson(event, {.indent = 2});      // indented
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace hookstream::cli {

struct JsonOptions {
  // 0: one line. Otherwise the number of spaces per level.
  int indent = 0;
  // Also print singular scalar fields at their default value (0, "").
  bool all_fields = false;
};

std::string ToJson(const google::protobuf::Message& message,
                   const JsonOptions& options = {});

// `text` without the whitespace between JSON tokens when it is valid JSON
// (it is then printed as JSON); nullopt otherwise (printed as a string).
std::optional<std::string> CompactJson(absl::string_view text);

}  // namespace hookstream::cli
