// -----------------------------------------------------------------------------
// File: json_value.h
// -----------------------------------------------------------------------------
// JsonDocument is a small read-only JSON tree built by ParseJsonObject with
// simdjson's On-Demand parser. It exists for one reason: a general-purpose
// JSON tree turns numbers into int64/uint64/double, and a double cannot hold
// `19.78`. Here every number keeps its token text exactly, so money stays
// exact and a string field given a number gets the number's text.
//
// Parsing rules:
// - Strict RFC 8259 JSON: no comments, no unquoted keys, no trailing commas,
//   no unescaped control characters in strings, nothing but whitespace after
//   the value; the body must be valid UTF-8 (the error names the offending
//   byte).
// - The top-level value must be an object.
// - Containers nest at most `max_depth` levels (the top-level object is
//   level 1): deeper trees would make destruction, Struct conversion and
//   protobuf parsing of the result recursive without bound.
// - Duplicate keys are all kept in order; Find returns the last one, as
//   JavaScript's JSON.parse does.
// - Numbers are stored as their token text, exactly as received (`-0`,
//   `1.50E-3`, a 30-digit integer). A number whose magnitude overflows a
//   double (`1e400`) is refused (RFC 8259 §6 lets parsers limit range);
//   underflow (`1e-400`) is accepted and keeps its text.
//
// Example:
//   absl::StatusOr<JsonDocument> doc = ParseJsonObject(R"({"a": 19.78})");
//   const JsonValue* a = doc->root().Find("a");  // a->text() == "19.78"
//
// Lifetime: every JsonValue, and every string_view it returns, belongs to
// its JsonDocument and is valid as long as that document (moves included).
//
// Thread-safety: a parsed JsonDocument is immutable and may be read from any
// thread. ParseJsonObject is safe to call concurrently (one parser per
// thread).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookstream {

struct JsonMember;

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  // Out of line: JsonMember is incomplete here, and an inline constructor
  // instantiates ~vector<JsonMember> for its cleanup (clang refuses that).
  JsonValue();
  explicit JsonValue(Kind kind);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }

  // kBool: the value.
  bool bool_value() const { return bool_value_; }
  // kString: the unescaped UTF-8 string. kNumber: the number's token text.
  absl::string_view text() const { return text_; }
  // kArray: the elements in order.
  const std::vector<JsonValue>& elements() const { return elements_; }
  // kObject: the members in document order (duplicates included).
  const std::vector<JsonMember>& members() const { return members_; }

  // kObject: the value of the last member named `key`; nullptr when absent
  // or when this is not an object. Linear: GETTRX objects are small.
  const JsonValue* Find(absl::string_view key) const;

  // Lower-case name of the kind for messages: "null", "number", "object"...
  static absl::string_view KindName(Kind kind);

 private:
  friend class JsonTreeBuilder;

  Kind kind_ = Kind::kNull;
  bool bool_value_ = false;
  absl::string_view text_;
  std::vector<JsonValue> elements_;
  std::vector<JsonMember> members_;
};

struct JsonMember {
  absl::string_view key;
  JsonValue value;
};

class JsonDocument {
 public:
  JsonDocument(JsonDocument&&) = default;
  JsonDocument& operator=(JsonDocument&&) = default;

  // The top-level object.
  const JsonValue& root() const { return root_; }

 private:
  friend class JsonTreeBuilder;
  JsonDocument() = default;

  // Every key, string and number text of the tree, back to back. A heap
  // array, not a std::string, so that moving the document never moves the
  // bytes the tree's views point at.
  std::unique_ptr<char[]> text_;
  JsonValue root_;
};

// How deep ParseJsonObject lets containers nest by default. 32 levels keep
// any Event built from the tree under protobuf's default recursion limit of
// 100 when a subtree is carried as a google.protobuf.Struct (each JSON level
// costs up to three message levels there); GETTRX events use about 8.
inline constexpr int kDefaultMaxJsonDepth = 32;

// Parses `body` as a strict JSON object (rules above). Every failure is
// INVALID_ARGUMENT with a precise message (byte offsets are 0-based):
// "body is empty", "body is not valid UTF-8: byte 0xff at offset 17",
// "malformed JSON at byte 16 (line 1, column 17): expected a key",
// "malformed JSON at byte 6 (line 1, column 7): number overflow parsing
// '1e400'", "JSON nested deeper than 32 levels", "body is a JSON array, not
// an object". Never throws.
absl::StatusOr<JsonDocument> ParseJsonObject(
    absl::string_view body, int max_depth = kDefaultMaxJsonDepth);

}  // namespace hookstream
