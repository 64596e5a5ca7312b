#include "common/conversion/json_value.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/conversion/json_readers.h"
#include "nlohmann/json.hpp"

namespace hookstream {

const JsonValue* JsonValue::Find(absl::string_view key) const {
  // Last match wins, so scan from the back.
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->key == key) return &it->value;
  }
  return nullptr;
}

absl::string_view JsonValue::KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "unknown";
}

namespace {

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence, so a
// message quoting the input stays valid UTF-8.
std::string TruncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s.append("...");
  return s;
}

// nlohmann's messages read "[json.exception.parse_error.101] parse error at
// line 1, column 18: <what went wrong>" or "[json.exception.out_of_range.406]
// number overflow parsing '1e400'"; keep line, column and the reason.
std::string DescribeParseError(absl::string_view what) {
  if (absl::StartsWith(what, "[")) {
    const size_t close = what.find("] ");
    if (close != absl::string_view::npos) what.remove_prefix(close + 2);
  }
  constexpr absl::string_view kAt = "parse error at ";
  if (absl::StartsWith(what, kAt)) {
    const size_t colon = what.find(": ");
    if (colon != absl::string_view::npos) {
      return absl::StrCat(" (", what.substr(kAt.size(), colon - kAt.size()),
                          "): ", what.substr(colon + 2));
    }
  }
  return absl::StrCat(": ", what);
}

}  // namespace

// Builds a JsonValue tree from nlohmann SAX events. Open containers are kept
// as pointers on a stack; each is the last child of its parent, so adding a
// child to the innermost one never moves any of them.
class JsonTreeBuilder {
 public:
  using Json = nlohmann::json;
  using Kind = JsonValue::Kind;

  explicit JsonTreeBuilder(int max_depth) : max_depth_(max_depth) {}

  bool null() { return Slot(Kind::kNull) != nullptr; }

  bool boolean(bool value) {
    JsonValue* slot = Slot(Kind::kBool);
    if (slot == nullptr) return false;
    slot->bool_value_ = value;
    return true;
  }

  bool number_integer(Json::number_integer_t value) {
    return Number(absl::StrCat(value));
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return Number(absl::StrCat(value));
  }
  bool number_float(Json::number_float_t /*value*/, const std::string& text) {
    // The lexer stores the decimal point as the C locale's; undo that so the
    // text is the JSON token even if a process changes LC_NUMERIC.
    std::string token = text;
    for (char& c : token) {
      const bool json_char = (c >= '0' && c <= '9') || c == '-' || c == '+' ||
                             c == 'e' || c == 'E';
      if (!json_char) c = '.';
    }
    return Number(std::move(token));
  }

  bool string(std::string& value) {
    JsonValue* slot = Slot(Kind::kString);
    if (slot == nullptr) return false;
    slot->text_ = std::move(value);
    return true;
  }

  bool binary(Json::binary_t& /*value*/) {
    // Only the binary formats (CBOR, MessagePack...) produce these.
    error_ = absl::InvalidArgumentError("unexpected binary value in JSON");
    return false;
  }

  bool start_object(std::size_t /*elements*/) { return Open(Kind::kObject); }
  bool start_array(std::size_t /*elements*/) { return Open(Kind::kArray); }

  bool key(std::string& key) {
    stack_.back()->members_.push_back(JsonMember{std::move(key), JsonValue()});
    return true;
  }

  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    // `position` counts the bytes read including the offending one.
    const size_t offset = position > 0 ? position - 1 : 0;
    error_ = absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at byte ", offset,
                     TruncateUtf8(DescribeParseError(ex.what()), 240)));
    return false;
  }

  absl::Status error() const { return error_; }
  JsonValue TakeRoot() { return std::move(root_); }

 private:
  bool Number(std::string text) {
    JsonValue* slot = Slot(Kind::kNumber);
    if (slot == nullptr) return false;
    slot->text_ = std::move(text);
    return true;
  }

  bool Open(Kind kind) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      error_ = absl::InvalidArgumentError(
          absl::StrCat("JSON nested deeper than ", max_depth_, " levels"));
      return false;
    }
    JsonValue* slot = Slot(kind);
    if (slot == nullptr) return false;
    stack_.push_back(slot);
    return true;
  }

  // Where the next value goes, already set to `kind`; nullptr (with error_
  // set) when the top-level value is not an object.
  JsonValue* Slot(Kind kind) {
    if (stack_.empty()) {
      if (kind != Kind::kObject) {
        error_ = absl::InvalidArgumentError(absl::StrCat(
            "body is a JSON ", JsonValue::KindName(kind), ", not an object"));
        return nullptr;
      }
      root_.kind_ = kind;
      return &root_;
    }
    JsonValue* top = stack_.back();
    if (top->kind_ == Kind::kArray) {
      top->elements_.emplace_back(kind);
      return &top->elements_.back();
    }
    JsonValue* slot = &top->members_.back().value;
    slot->kind_ = kind;
    return slot;
  }

  const int max_depth_;
  JsonValue root_;
  std::vector<JsonValue*> stack_;
  absl::Status error_;
};

absl::StatusOr<JsonValue> ParseJsonObject(absl::string_view body,
                                          int max_depth) {
  if (body.empty()) return absl::InvalidArgumentError("body is empty");
  if (const std::optional<size_t> bad = FindInvalidUtf8(body)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("body is not valid UTF-8: byte 0x%02x at offset %d",
                        static_cast<unsigned char>(body[*bad]), *bad));
  }
  JsonTreeBuilder builder(max_depth);
  try {
    const bool ok = nlohmann::json::sax_parse(
        body.data(), body.data() + body.size(), &builder,
        nlohmann::json::input_format_t::json, /*strict=*/true,
        /*ignore_comments=*/false);
    if (!ok) {
      absl::Status error = builder.error();
      if (error.ok()) error = absl::InvalidArgumentError("malformed JSON");
      return error;
    }
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing JSON");
  } catch (const std::exception& e) {
    // The SAX interface reports errors through parse_error; this is a guard
    // so that nothing thrown inside nlohmann leaves the module.
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON: ", TruncateUtf8(e.what(), 240)));
  }
  return builder.TakeRoot();
}

}  // namespace hookstream
