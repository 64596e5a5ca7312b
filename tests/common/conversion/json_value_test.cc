#include "common/conversion/json_value.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Kind = JsonValue::Kind;

std::string Nested(int depth, char open, char close) {
  return std::string(depth, open) + std::string(depth, close);
}

// Verifies that number tokens keep their text exactly, which is what makes
// amounts exact downstream.
TEST(ParseJsonObjectTest, KeepsNumberTokenText) {
  absl::StatusOr<JsonDocument> doc = ParseJsonObject(
      R"({"a": 19.78, "b": 104, "c": -7, "d": 1e2, "e": 1.50E-3,)"
      R"( "f": 18446744073709551615, "g": 123456789012345678901234567890,)"
      R"( "h": 0.1000000000000000055511151231257827})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const JsonValue& root = doc->root();
  EXPECT_EQ(root.Find("a")->text(), "19.78");
  EXPECT_EQ(root.Find("b")->text(), "104");
  EXPECT_EQ(root.Find("c")->text(), "-7");
  EXPECT_EQ(root.Find("d")->text(), "1e2");
  EXPECT_EQ(root.Find("e")->text(), "1.50E-3");
  EXPECT_EQ(root.Find("f")->text(), "18446744073709551615");
  EXPECT_EQ(root.Find("g")->text(), "123456789012345678901234567890");
  EXPECT_EQ(root.Find("h")->text(), "0.1000000000000000055511151231257827");
  EXPECT_EQ(root.Find("a")->kind(), Kind::kNumber);
}

// Verifies the tree's shape: kinds, order of members and elements, and
// unescaped strings (including a surrogate pair escape).
TEST(ParseJsonObjectTest, BuildsTree) {
  absl::StatusOr<JsonDocument> doc = ParseJsonObject(
      R"({"s": "caf\u00e9 \ud83d\ude00", "t": true, "n": null,)"
      R"( "arr": [1, "x", {"k": false}], "o": {"z": 1, "y": 2}})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const JsonValue& root = doc->root();
  EXPECT_EQ(root.Find("s")->text(), "café 😀");
  EXPECT_TRUE(root.Find("t")->bool_value());
  EXPECT_TRUE(root.Find("n")->is_null());
  const JsonValue* arr = root.Find("arr");
  ASSERT_TRUE(arr->is_array());
  ASSERT_EQ(arr->elements().size(), 3u);
  EXPECT_EQ(arr->elements()[1].text(), "x");
  EXPECT_FALSE(arr->elements()[2].Find("k")->bool_value());
  const JsonValue* o = root.Find("o");
  ASSERT_EQ(o->members().size(), 2u);
  EXPECT_EQ(o->members()[0].key, "z");
  EXPECT_EQ(o->members()[1].key, "y");
  EXPECT_EQ(root.Find("missing"), nullptr);
  EXPECT_EQ(root.Find("s")->Find("anything"), nullptr);
}

// Verifies that a repeated key keeps both members and Find returns the last.
TEST(ParseJsonObjectTest, DuplicateKeysLastWins) {
  absl::StatusOr<JsonDocument> doc =
      ParseJsonObject(R"({"id": "a", "id": "b"})");
  ASSERT_TRUE(doc.ok());
  const JsonValue& root = doc->root();
  EXPECT_EQ(root.members().size(), 2u);
  EXPECT_EQ(root.Find("id")->text(), "b");
}

// Verifies the depth limit at its exact boundary, for objects and arrays.
TEST(ParseJsonObjectTest, DepthLimitIsExact) {
  // The top-level object is level 1.
  const std::string arrays_ok =
      absl::StrCat(R"({"a":)", Nested(kDefaultMaxJsonDepth - 1, '[', ']'), "}");
  EXPECT_TRUE(ParseJsonObject(arrays_ok).ok());
  const std::string arrays_deep =
      absl::StrCat(R"({"a":)", Nested(kDefaultMaxJsonDepth, '[', ']'), "}");
  EXPECT_THAT(ParseJsonObject(arrays_deep),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nested deeper than 32 levels")));

  std::string objects = "{}";
  for (int i = 1; i < kDefaultMaxJsonDepth; ++i) {
    objects = absl::StrCat(R"({"a":)", objects, "}");
  }
  EXPECT_TRUE(ParseJsonObject(objects).ok());
  EXPECT_THAT(ParseJsonObject(absl::StrCat(R"({"a":)", objects, "}")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseJsonObject(R"({"a":[[1]]})", /*max_depth=*/3).ok());
  EXPECT_FALSE(ParseJsonObject(R"({"a":[[1]]})", /*max_depth=*/2).ok());
}

// Verifies that a million levels of nesting are refused without exhausting
// the stack (the parser is iterative and the builder stops at the limit).
TEST(ParseJsonObjectTest, HugeNestingIsRefusedWithoutCrashing) {
  const std::string body =
      absl::StrCat(R"({"a":)", Nested(1'000'000, '[', ']'), "}");
  EXPECT_THAT(
      ParseJsonObject(body),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested deeper")));
  EXPECT_THAT(
      ParseJsonObject(Nested(1'000'000, '[', ']')),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an object")));
}

// Verifies each error's message: it must let a sender find the problem.
TEST(ParseJsonObjectTest, ErrorsArePrecise) {
  EXPECT_THAT(ParseJsonObject(""),
              StatusIs(absl::StatusCode::kInvalidArgument, "body is empty"));
  EXPECT_THAT(ParseJsonObject("{\"a\": \"\xff\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "body is not valid UTF-8: byte 0xff at offset 7"));
  EXPECT_THAT(
      ParseJsonObject(R"({"id": "evt_1", })"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("malformed JSON at byte 16 (line 1, column 17): ")));
  EXPECT_THAT(ParseJsonObject("{a: 1}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed JSON at byte 1 ")));
  EXPECT_THAT(ParseJsonObject("[1]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "body is a JSON array, not an object"));
  EXPECT_THAT(ParseJsonObject("\"x\""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "body is a JSON string, not an object"));
  EXPECT_THAT(ParseJsonObject("42"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "body is a JSON number, not an object"));
  EXPECT_THAT(ParseJsonObject(R"({"a": 1} {})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed JSON")));
  EXPECT_THAT(
      ParseJsonObject(R"({"a": "\ud800"})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("surrogate")));
  EXPECT_THAT(ParseJsonObject("{\"a\": 1 // c\n}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseJsonObject(R"({"a": 1e400})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed JSON at byte 6 (line 1, column 7): number "
                       "overflow parsing '1e400'"));
  EXPECT_THAT(ParseJsonObject(R"({"a": NaN})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies that numbers keep their text even where a numeric parse would
// change it, and that malformed or out-of-range numbers are refused at the
// token.
TEST(ParseJsonObjectTest, NumbersAreCheckedAndKeptAsSent) {
  absl::StatusOr<JsonDocument> doc =
      ParseJsonObject(R"({"z": -0, "u": 1e-400, "w": 0.0e999, "x": 2E+3 })");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->root().Find("z")->text(), "-0");
  EXPECT_EQ(doc->root().Find("u")->text(), "1e-400");
  EXPECT_EQ(doc->root().Find("w")->text(), "0.0e999");
  EXPECT_EQ(doc->root().Find("x")->text(), "2E+3");
  for (const char* bad : {"01", "1.", ".5", "+1", "1e", "-", "0x10", "1.5e+"}) {
    EXPECT_THAT(ParseJsonObject(absl::StrCat(R"({"a": )", bad, "}")),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("malformed JSON at byte 6 ")))
        << bad;
  }
  EXPECT_THAT(ParseJsonObject(R"({"a": -0.5e400})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("number overflow parsing '-0.5e400'")));
  // Underflow, however it is written, keeps its text.
  const std::string tiny = absl::StrCat("0.", std::string(800, '0'), "1e100");
  absl::StatusOr<JsonDocument> small =
      ParseJsonObject(absl::StrCat(R"({"t": )", tiny, "}"));
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->root().Find("t")->text(), tiny);
}

// Verifies strings: raw control characters are refused where they are, and
// escapes decode.
TEST(ParseJsonObjectTest, StringsAreStrict) {
  EXPECT_THAT(ParseJsonObject("{\"a\": \"x\ny\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("malformed JSON at byte 8 "),
                             HasSubstr("control character U+000A"))));
  EXPECT_THAT(ParseJsonObject("{\"a\": \"never closed}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed JSON")));
  absl::StatusOr<JsonDocument> doc =
      ParseJsonObject(R"({"e": "tab\there \"q\" \\ \/ \u0041"})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->root().Find("e")->text(), "tab\there \"q\" \\ / A");
}

// Verifies where trailing content is reported.
TEST(ParseJsonObjectTest, TrailingContentIsRefused) {
  EXPECT_THAT(ParseJsonObject(R"({"a": 1} x)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed JSON")));
  EXPECT_TRUE(ParseJsonObject("{\"a\": 1} \n\t ").ok());
}

// Verifies that a document owns its text: views survive moving the document
// and parsing other bodies on the same thread (the parser is reused).
TEST(ParseJsonObjectTest, DocumentOwnsItsText) {
  absl::StatusOr<JsonDocument> first = ParseJsonObject(R"({"k": "v1"})");
  ASSERT_TRUE(first.ok());
  JsonDocument moved = *std::move(first);
  absl::StatusOr<JsonDocument> second = ParseJsonObject(
      R"({"other": "a much longer value than before", "k": 2})");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(ParseJsonObject(R"({"k": "bad)").ok());
  EXPECT_EQ(moved.root().members()[0].key, "k");
  EXPECT_EQ(moved.root().Find("k")->text(), "v1");
  EXPECT_EQ(second->root().Find("k")->text(), "2");
}

// Verifies that the message quoting a huge bad token stays short.
TEST(ParseJsonObjectTest, ErrorMessageIsBounded) {
  const std::string body =
      absl::StrCat(R"({"a": ")", std::string(1 << 20, 'x'));  // unterminated
  absl::StatusOr<JsonDocument> doc = ParseJsonObject(body);
  ASSERT_FALSE(doc.ok());
  EXPECT_LT(doc.status().message().size(), 400u);
}

}  // namespace
}  // namespace hookstream
