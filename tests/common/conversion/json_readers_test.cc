#include "common/conversion/json_readers.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace hookstream {
namespace {

// Parses `{"v": <json>}` and keeps the tree alive for the test.
class Value {
 public:
  explicit Value(absl::string_view json)
      : document_(*ParseJsonObject(absl::StrCat(R"({"v": )", json, "}"))) {}
  const JsonValue* get() const { return document_.root().Find("v"); }

 private:
  JsonDocument document_;
};

// Verifies valid UTF-8 of every length, including after the ASCII fast path.
TEST(FindInvalidUtf8Test, AcceptsValidUtf8) {
  EXPECT_EQ(FindInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("plain ascii that is longer than eight bytes"),
            std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("é € 😀 🇨🇨 \xF4\x8F\xBF\xBF \xEE\x80\x80"),
            std::nullopt);
}

// Verifies that each class of malformed sequence is found at its offset.
TEST(FindInvalidUtf8Test, FindsFirstBadSequence) {
  EXPECT_EQ(FindInvalidUtf8("\xff"), 0u);
  EXPECT_EQ(FindInvalidUtf8("0123456789abcdefghij\xff"), 20u);
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);             // lone continuation
  EXPECT_EQ(FindInvalidUtf8("a\xC0\xAF"), 1u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("a\xE0\x80\xAF"), 1u);      // overlong 3-byte
  EXPECT_EQ(FindInvalidUtf8("a\xED\xA0\x80"), 1u);      // surrogate D800
  EXPECT_EQ(FindInvalidUtf8("a\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("a\xF5\x80\x80\x80"), 1u);  // invalid lead
  EXPECT_EQ(FindInvalidUtf8("abc\xE2\x82"), 3u);        // truncated at end
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82x"), 0u);          // bad continuation
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F\x98"), 0u);       // truncated emoji
}

// Verifies ReadString: strings as is, numbers and booleans as their text,
// everything else unset.
TEST(ReadStringTest, ScalarsBecomeText) {
  EXPECT_EQ(ReadString(Value(R"("West Eladiofurt")").get()), "West Eladiofurt");
  EXPECT_EQ(ReadString(Value(R"("")").get()), "");
  EXPECT_EQ(ReadString(Value("12782").get()), "12782");
  EXPECT_EQ(ReadString(Value("19.78").get()), "19.78");
  EXPECT_EQ(ReadString(Value("1e2").get()), "1e2");
  EXPECT_EQ(ReadString(Value("true").get()), "true");
  EXPECT_EQ(ReadString(Value("null").get()), std::nullopt);
  EXPECT_EQ(ReadString(Value(R"({"a": 1})").get()), std::nullopt);
  EXPECT_EQ(ReadString(Value("[1]").get()), std::nullopt);
  EXPECT_EQ(ReadString(nullptr), std::nullopt);
}

// Verifies ReadBool accepts booleans and exactly "true"/"false".
TEST(ReadBoolTest, BooleansAndTheirStrings) {
  EXPECT_EQ(ReadBool(Value("true").get()), true);
  EXPECT_EQ(ReadBool(Value("false").get()), false);
  EXPECT_EQ(ReadBool(Value(R"("true")").get()), true);
  EXPECT_EQ(ReadBool(Value(R"("false")").get()), false);
  EXPECT_EQ(ReadBool(Value(R"("TRUE")").get()), std::nullopt);
  EXPECT_EQ(ReadBool(Value(R"("yes")").get()), std::nullopt);
  EXPECT_EQ(ReadBool(Value("1").get()), std::nullopt);
  EXPECT_EQ(ReadBool(Value("null").get()), std::nullopt);
  EXPECT_EQ(ReadBool(nullptr), std::nullopt);
}

// Verifies ReadInt64 parses numbers and numeric strings with whole values.
TEST(ReadInt64Test, WholeNumbersFromNumbersOrStrings) {
  EXPECT_EQ(ReadInt64(Value("12").get()), 12);
  EXPECT_EQ(ReadInt64(Value(R"("12")").get()), 12);
  EXPECT_EQ(ReadInt64(Value("-3").get()), -3);
  EXPECT_EQ(ReadInt64(Value("1.2e1").get()), 12);
  EXPECT_EQ(ReadInt64(Value("12.0").get()), 12);
  EXPECT_EQ(ReadInt64(Value("1.5").get()), std::nullopt);
  EXPECT_EQ(ReadInt64(Value(R"("12abc")").get()), std::nullopt);
  EXPECT_EQ(ReadInt64(Value(R"(" 12")").get()), std::nullopt);
  EXPECT_EQ(ReadInt64(Value("99999999999999999999").get()), std::nullopt);
  EXPECT_EQ(ReadInt64(Value("true").get()), std::nullopt);
  EXPECT_EQ(ReadInt64(nullptr), std::nullopt);
}

// Verifies ReadAmount takes numbers or numeric strings, exactly.
TEST(ReadAmountTest, NumbersAndNumericStrings) {
  std::optional<v1::Amount> a = ReadAmount(Value("19.78").get());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->decimal(), "19.78");
  EXPECT_EQ(a->units(), 19);
  EXPECT_EQ(a->nanos(), 780000000);

  a = ReadAmount(Value(R"("38.95")").get());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->decimal(), "38.95");
  EXPECT_EQ(a->units(), 38);
  EXPECT_EQ(a->nanos(), 950000000);

  EXPECT_FALSE(ReadAmount(Value(R"("n/a")").get()).has_value());
  EXPECT_FALSE(ReadAmount(Value(R"({"value": 1})").get()).has_value());
  EXPECT_FALSE(ReadAmount(Value("null").get()).has_value());
}

google::protobuf::Timestamp Ts(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  return ts;
}

MATCHER_P(EqualsProto, expected, "") {
  return google::protobuf::util::MessageDifferencer::Equals(arg, expected);
}

// Verifies the seconds/milliseconds rule and its boundary at 10^12.
TEST(ReadUnixTimeTest, SecondsOrMilliseconds) {
  EXPECT_THAT(*ReadUnixTime(Value("1733267134").get()),
              EqualsProto(Ts(1733267134, 0)));
  EXPECT_THAT(*ReadUnixTime(Value(R"("1733267345")").get()),
              EqualsProto(Ts(1733267345, 0)));
  EXPECT_THAT(*ReadUnixTime(Value(R"("1737712885939")").get()),
              EqualsProto(Ts(1737712885, 939000000)));
  // 12 digits: still seconds (year 33658 is beyond Timestamp's range).
  EXPECT_EQ(ReadUnixTime(Value("999999999999").get()), std::nullopt);
  EXPECT_THAT(*ReadUnixTime(Value("1000000000000").get()),
              EqualsProto(Ts(1000000000, 0)));
  EXPECT_THAT(*ReadUnixTime(Value("253402300799").get()),
              EqualsProto(Ts(253402300799, 0)));
  EXPECT_EQ(ReadUnixTime(Value("253402300800").get()), std::nullopt);
  EXPECT_THAT(*ReadUnixTime(Value("0").get()), EqualsProto(Ts(0, 0)));
}

// Verifies fractions, including fractions of a millisecond and negatives
// (Timestamp nanos are never negative).
TEST(ReadUnixTimeTest, Fractions) {
  EXPECT_THAT(*ReadUnixTime(Value("1.5").get()), EqualsProto(Ts(1, 500000000)));
  EXPECT_THAT(*ReadUnixTime(Value("-1.5").get()),
              EqualsProto(Ts(-2, 500000000)));
  EXPECT_THAT(*ReadUnixTime(Value("1737712885939.5").get()),
              EqualsProto(Ts(1737712885, 939500000)));
  EXPECT_THAT(*ReadUnixTime(Value("1.7332671345e9").get()),
              EqualsProto(Ts(1733267134, 500000000)));
}

// Verifies that unreadable times give nothing.
TEST(ReadUnixTimeTest, UnreadableGivesNothing) {
  EXPECT_EQ(ReadUnixTime(Value(R"("yesterday")").get()), std::nullopt);
  EXPECT_EQ(ReadUnixTime(Value(R"("")").get()), std::nullopt);
  EXPECT_EQ(ReadUnixTime(Value("true").get()), std::nullopt);
  EXPECT_EQ(ReadUnixTime(Value("{}").get()), std::nullopt);
  EXPECT_EQ(ReadUnixTime(Value("1e30").get()), std::nullopt);
  EXPECT_EQ(ReadUnixTime(nullptr), std::nullopt);
}

// Verifies the `object` / `_object` alias and that `object` wins.
TEST(ReadObjectKindTest, ObjectOrUnderscoreObject) {
  EXPECT_EQ(ReadObjectKind(*Value(R"({"object": "customer"})").get()),
            "customer");
  EXPECT_EQ(ReadObjectKind(*Value(R"({"_object": "customer"})").get()),
            "customer");
  EXPECT_EQ(
      ReadObjectKind(*Value(R"({"object": "refund", "_object": "x"})").get()),
      "refund");
  EXPECT_EQ(ReadObjectKind(*Value(R"({"object": "", "_object": "x"})").get()),
            "x");
  EXPECT_EQ(ReadObjectKind(*Value(R"({"object": 7})").get()), "");
  EXPECT_EQ(ReadObjectKind(*Value(R"({"id": "cus_1"})").get()), "");
}

// Verifies ReadObject passes objects only.
TEST(ReadObjectTest, OnlyObjects) {
  Value object("{}");
  EXPECT_EQ(ReadObject(object.get()), object.get());
  EXPECT_EQ(ReadObject(Value("[]").get()), nullptr);
  EXPECT_EQ(ReadObject(Value("null").get()), nullptr);
  EXPECT_EQ(ReadObject(nullptr), nullptr);
}

// Verifies the Struct conversion of every kind, last-wins for duplicates
// (without merging), and that a number a double cannot hold keeps its text.
TEST(ToProtoStructTest, ConvertsEveryKind) {
  Value v(R"({"s": "x", "n": 19.78, "i": 104, "b": true, "z": null,)"
          R"( "l": [1, "a", {"k": []}], "o": {"p": {"q": 1}},)"
          R"( "dup": {"a": 1}, "dup": {"b": 2}, "tiny": 1e-400})");
  google::protobuf::Struct s;
  ToProtoStruct(*v.get(), &s);
  const auto& f = s.fields();
  EXPECT_EQ(f.at("s").string_value(), "x");
  EXPECT_DOUBLE_EQ(f.at("n").number_value(), 19.78);
  EXPECT_DOUBLE_EQ(f.at("i").number_value(), 104);
  EXPECT_TRUE(f.at("b").bool_value());
  EXPECT_EQ(f.at("z").kind_case(), google::protobuf::Value::kNullValue);
  ASSERT_EQ(f.at("l").list_value().values_size(), 3);
  EXPECT_EQ(f.at("l").list_value().values(1).string_value(), "a");
  EXPECT_TRUE(f.at("l")
                  .list_value()
                  .values(2)
                  .struct_value()
                  .fields()
                  .at("k")
                  .has_list_value());
  EXPECT_DOUBLE_EQ(f.at("o")
                       .struct_value()
                       .fields()
                       .at("p")
                       .struct_value()
                       .fields()
                       .at("q")
                       .number_value(),
                   1);
  ASSERT_EQ(f.at("dup").struct_value().fields_size(), 1);
  EXPECT_TRUE(f.at("dup").struct_value().fields().contains("b"));
  EXPECT_EQ(f.at("tiny").string_value(), "1e-400");
}

}  // namespace
}  // namespace hookstream
