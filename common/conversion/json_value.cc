#include "common/conversion/json_value.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/conversion/json_readers.h"
#include "nlohmann/json.hpp"
#include "simdjson.h"

namespace hookstream {

JsonValue::JsonValue() = default;
JsonValue::JsonValue(Kind kind) : kind_(kind) {}

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

namespace od = ::simdjson::ondemand;

// A parser keeps its buffers between documents; sized for one large body it
// would keep megabytes per thread, so it is dropped after one.
constexpr size_t kMaxRetainedCapacity = size_t{256} << 10;

// Per-thread parsing state, reused so that a typical body allocates only its
// own tree.
struct ParserState {
  od::parser parser;
  // The body followed by simdjson's required padding.
  std::string padded;
  // members[d] / elements[d]: the children of the container being built at
  // depth d, collected here and then moved into an exactly sized vector.
  std::vector<std::vector<JsonMember>> members;
  std::vector<std::vector<JsonValue>> elements;
};

ParserState& ThreadParserState() {
  thread_local ParserState state;
  return state;
}

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
// line 1, column 18: <what went wrong>"; keep line, column and the reason.
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

// simdjson's On-Demand parser says that a body is malformed but not always
// where (a truncated or unbalanced body fails at byte 0). On that cold path
// nlohmann's SAX parser, which builds nothing here, finds the exact byte and
// reason.
class SyntaxErrorLocator : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    // `position` counts the bytes read including the offending one.
    const size_t offset = position > 0 ? position - 1 : 0;
    error_ = absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at byte ", offset,
                     TruncateUtf8(DescribeParseError(ex.what()), 240)));
    return false;
  }

  // The error in `body`, or nullopt when nlohmann accepts it.
  static std::optional<absl::Status> Locate(absl::string_view body) {
    SyntaxErrorLocator locator;
    try {
      nlohmann::json::sax_parse(body.data(), body.data() + body.size(),
                                &locator, nlohmann::json::input_format_t::json,
                                /*strict=*/true, /*ignore_comments=*/false);
    } catch (const std::exception&) {
      return std::nullopt;  // the caller has simdjson's own description
    }
    return locator.error_;
  }

 private:
  std::optional<absl::Status> error_;
};

// Describes a body simdjson refused. simdjson says that it is malformed but
// not always where (a truncated or unbalanced body fails at byte 0, invalid
// UTF-8 anywhere fails before iteration): on this cold path the offending
// byte is found here, and syntax errors by nlohmann's SAX parser.
std::optional<absl::Status> LocateError(absl::string_view body) {
  if (const std::optional<size_t> bad = FindInvalidUtf8(body)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("body is not valid UTF-8: byte 0x%02x at offset %d",
                        static_cast<unsigned char>(body[*bad]), *bad));
  }
  return SyntaxErrorLocator::Locate(body);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(absl::string_view t) {
  size_t i = 0;
  const size_t n = t.size();
  auto digits = [&] {
    const size_t start = i;
    while (i < n && IsDigit(t[i])) ++i;
    return i > start;
  };
  if (i < n && t[i] == '-') ++i;
  if (i < n && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// Whether a well-formed number token is too large in magnitude for a double
// (underflow is fine: the text is kept).
bool OverflowsDouble(absl::string_view t) {
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc::result_out_of_range) return false;
  // Out of range is either overflow or underflow, orders of magnitude
  // apart: the position of the first significant digit decides.
  int64_t exponent = 0;
  if (const size_t e_at = t.find_first_of("eE");
      e_at != absl::string_view::npos) {
    absl::string_view e = t.substr(e_at + 1);
    const bool negative = e[0] == '-';
    if (e[0] == '+' || e[0] == '-') e.remove_prefix(1);
    const auto [e_end, e_ec] =
        std::from_chars(e.data(), e.data() + e.size(), exponent);
    // An exponent beyond int64 is astronomically large either way.
    if (e_ec != std::errc()) exponent = int64_t{1} << 62;
    if (negative) exponent = -exponent;
  }
  // The decimal exponent of the first significant digit: >= 0 for
  // overflow (the value is at least 1e308), negative for underflow.
  absl::string_view mantissa = t.substr(0, t.find_first_of("eE"));
  if (mantissa[0] == '-') mantissa.remove_prefix(1);
  const absl::string_view whole = mantissa.substr(0, mantissa.find('.'));
  const size_t first = whole.find_first_not_of('0');
  if (first != absl::string_view::npos) {
    return exponent + static_cast<int64_t>(whole.size() - first) - 1 >= 0;
  }
  const absl::string_view fraction =
      mantissa.size() > whole.size() ? mantissa.substr(whole.size() + 1) : "";
  const size_t zeros = fraction.find_first_not_of('0');
  return zeros != absl::string_view::npos &&
         exponent - static_cast<int64_t>(zeros) - 1 >= 0;
}

}  // namespace

// Builds a JsonDocument from simdjson's On-Demand iteration. Every value is
// visited (On-Demand only validates what it visits), and every key and text
// is copied into the document's own storage, because the parser's buffers
// are reused by the next document on this thread.
class JsonTreeBuilder {
 public:
  using Kind = JsonValue::Kind;

  JsonTreeBuilder(absl::string_view body, const char* padded, int max_depth,
                  ParserState& state)
      : body_(body), padded_(padded), max_depth_(max_depth), state_(state) {
    const size_t levels = static_cast<size_t>(max_depth) + 2;
    if (state_.members.size() < levels) state_.members.resize(levels);
    if (state_.elements.size() < levels) state_.elements.resize(levels);
    // Keys, strings and numbers are disjoint pieces of the body, and
    // unescaping never makes text longer: the body's size is enough.
    doc_.text_ = std::make_unique<char[]>(std::max<size_t>(body.size(), 1));
  }

  absl::Status Build(od::document& doc) {
    doc_iter_ = &doc;
    od::json_type type;
    if (simdjson::error_code e = doc.type().get(type)) return Malformed(e);
    if (type != od::json_type::object) {
      return absl::InvalidArgumentError(
          absl::StrCat("body is a JSON ", JsonValue::KindName(KindOf(type)),
                       ", not an object"));
    }
    od::object object;
    if (simdjson::error_code e = doc.get_object().get(object)) {
      return Malformed(e);
    }
    if (absl::Status s = BuildObject(object, 1, doc_.root_); !s.ok()) {
      return s;
    }
    // Anything but whitespace after the object is an error.
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS) {
      return MalformedAt(rest, "unexpected content after the top-level object");
    }
    return absl::OkStatus();
  }

  JsonDocument TakeDocument() { return std::move(doc_); }

 private:
  static Kind KindOf(od::json_type type) {
    switch (type) {
      case od::json_type::array:
        return Kind::kArray;
      case od::json_type::object:
        return Kind::kObject;
      case od::json_type::number:
        return Kind::kNumber;
      case od::json_type::string:
        return Kind::kString;
      case od::json_type::boolean:
        return Kind::kBool;
      case od::json_type::null:
        return Kind::kNull;
    }
    return Kind::kNull;
  }

  absl::Status BuildObject(od::object& object, int depth, JsonValue& out) {
    if (depth > max_depth_) return TooDeep();
    out.kind_ = Kind::kObject;
    std::vector<JsonMember>& members = state_.members[depth];
    members.clear();
    for (auto field_result : object) {
      od::field field;
      if (simdjson::error_code e = std::move(field_result).get(field)) {
        return Malformed(e);
      }
      std::string_view key;
      if (simdjson::error_code e = field.unescaped_key().get(key)) {
        return Malformed(e);
      }
      members.push_back(JsonMember{
          Keep(absl::string_view(key.data(), key.size())), JsonValue()});
      if (absl::Status s =
              BuildValue(field.value(), depth, members.back().value);
          !s.ok()) {
        return s;
      }
    }
    out.members_.assign(std::make_move_iterator(members.begin()),
                        std::make_move_iterator(members.end()));
    members.clear();
    return absl::OkStatus();
  }

  absl::Status BuildArray(od::array& array, int depth, JsonValue& out) {
    if (depth > max_depth_) return TooDeep();
    out.kind_ = Kind::kArray;
    std::vector<JsonValue>& elements = state_.elements[depth];
    elements.clear();
    for (auto element_result : array) {
      od::value element;
      if (simdjson::error_code e = std::move(element_result).get(element)) {
        return Malformed(e);
      }
      elements.emplace_back();
      if (absl::Status s = BuildValue(element, depth, elements.back());
          !s.ok()) {
        return s;
      }
    }
    out.elements_.assign(std::make_move_iterator(elements.begin()),
                         std::make_move_iterator(elements.end()));
    elements.clear();
    return absl::OkStatus();
  }

  // `depth` is that of the container holding `value`.
  absl::Status BuildValue(od::value value, int depth, JsonValue& out) {
    od::json_type type;
    if (simdjson::error_code e = value.type().get(type)) return Malformed(e);
    switch (type) {
      case od::json_type::object: {
        od::object object;
        if (simdjson::error_code e = value.get_object().get(object)) {
          return Malformed(e);
        }
        return BuildObject(object, depth + 1, out);
      }
      case od::json_type::array: {
        od::array array;
        if (simdjson::error_code e = value.get_array().get(array)) {
          return Malformed(e);
        }
        return BuildArray(array, depth + 1, out);
      }
      case od::json_type::string: {
        std::string_view text;
        if (simdjson::error_code e = value.get_string().get(text)) {
          return Malformed(e);
        }
        out.kind_ = Kind::kString;
        out.text_ = Keep(absl::string_view(text.data(), text.size()));
        return absl::OkStatus();
      }
      case od::json_type::number: {
        // The token runs up to the next structural character.
        const std::string_view raw = value.raw_json_token();
        absl::string_view token(raw.data(), raw.size());
        while (!token.empty() &&
               (token.back() == ' ' || token.back() == '\t' ||
                token.back() == '\n' || token.back() == '\r')) {
          token.remove_suffix(1);
        }
        if (!IsJsonNumber(token)) {
          return MalformedAt(token.data(), "invalid number");
        }
        if (OverflowsDouble(token)) {
          return MalformedAt(token.data(),
                             absl::StrCat("number overflow parsing '",
                                          token.substr(0, 64), "'"));
        }
        out.kind_ = Kind::kNumber;
        out.text_ = Keep(token);
        return absl::OkStatus();
      }
      case od::json_type::boolean: {
        bool b = false;
        if (simdjson::error_code e = value.get_bool().get(b)) {
          return Malformed(e);
        }
        out.kind_ = Kind::kBool;
        out.bool_value_ = b;
        return absl::OkStatus();
      }
      case od::json_type::null: {
        bool is_null = false;
        if (simdjson::error_code e = value.is_null().get(is_null)) {
          return Malformed(e);
        }
        if (!is_null) return Malformed(simdjson::N_ATOM_ERROR);
        out.kind_ = Kind::kNull;
        return absl::OkStatus();
      }
    }
    return Malformed(simdjson::INCORRECT_TYPE);
  }

  absl::string_view Keep(absl::string_view text) {
    char* const dst = doc_.text_.get() + used_;
    std::memcpy(dst, text.data(), text.size());
    used_ += text.size();
    return absl::string_view(dst, text.size());
  }

  absl::Status TooDeep() const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", max_depth_, " levels"));
  }

  // An error simdjson reported: located precisely when possible, else at
  // the position its iterator stopped.
  absl::Status Malformed(simdjson::error_code error) {
    if (std::optional<absl::Status> located = LocateError(body_)) {
      return *std::move(located);
    }
    const char* where = nullptr;
    if (doc_iter_ == nullptr ||
        doc_iter_->current_location().get(where) != simdjson::SUCCESS) {
      where = nullptr;
    }
    return MalformedAt(where, simdjson::error_message(error));
  }

  // "malformed JSON at byte 6 (line 1, column 7): <reason>" for a position
  // inside the padded copy of the body.
  absl::Status MalformedAt(const char* where, absl::string_view reason) const {
    if (where == nullptr || where < padded_ || where > padded_ + body_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed JSON: ", reason));
    }
    const size_t offset = static_cast<size_t>(where - padded_);
    const absl::string_view before = body_.substr(0, offset);
    const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const size_t last_newline = before.rfind('\n');
    const size_t column = last_newline == absl::string_view::npos
                              ? offset + 1
                              : offset - last_newline;
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at byte ", offset, " (line ", line,
                     ", column ", column, "): ", reason));
  }

 private:
  const absl::string_view body_;
  const char* const padded_;
  const int max_depth_;
  ParserState& state_;
  od::document* doc_iter_ = nullptr;
  JsonDocument doc_;
  size_t used_ = 0;
};

absl::StatusOr<JsonDocument> ParseJsonObject(absl::string_view body,
                                             int max_depth) {
  if (body.empty()) return absl::InvalidArgumentError("body is empty");
  ParserState& state = ThreadParserState();
  try {
    state.padded.assign(body.data(), body.size());
    state.padded.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document doc;
    absl::Status status;
    std::optional<JsonDocument> result;
    if (simdjson::error_code e =
            state.parser
                .iterate(state.padded.data(), body.size(), state.padded.size())
                .get(doc)) {
      // Stage 1 (UTF-8, strings, structure) refused the body.
      std::optional<absl::Status> located = LocateError(body);
      status = located.has_value()
                   ? *std::move(located)
                   : absl::InvalidArgumentError(absl::StrCat(
                         "malformed JSON: ", simdjson::error_message(e)));
    } else {
      JsonTreeBuilder builder(body, state.padded.data(), max_depth, state);
      status = builder.Build(doc);
      if (status.ok()) result.emplace(builder.TakeDocument());
    }
    if (state.parser.capacity() > kMaxRetainedCapacity) {
      state.parser = od::parser();
      state.padded = std::string();
    }
    if (!status.ok()) return status;
    return *std::move(result);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing JSON");
  }
}

}  // namespace hookstream
