#include "dockerfile/parse_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace strata::dockerfile::internal {
namespace {

using Strings = std::vector<std::string>;

JsonArray Kind(std::string_view text) {
  Strings out;
  return DecodeJsonStringArray(text, &out);
}

Strings Decode(std::string_view text) {
  Strings out;
  EXPECT_EQ(DecodeJsonStringArray(text, &out), JsonArray::kStrings) << text;
  return out;
}

TEST(ParseJsonTest, StringsAndEscapes) {
  EXPECT_EQ(Decode("[]"), Strings{});
  EXPECT_EQ(Decode(" [ \"a\" ,\t\"b\"\n]\r\n"), (Strings{"a", "b"}));
  EXPECT_EQ(Decode(R"(["\"\\\/\b\f\n\r\t"])"), Strings{"\"\\/\b\f\n\r\t"});
  EXPECT_EQ(Decode(R"(["\u0000x"])"), Strings{std::string("\0x", 2)});
  EXPECT_EQ(Decode(R"(["\u00e9\uD83D\uDE00"])"), Strings{"\u00e9\U0001F600"});
}

TEST(ParseJsonTest, GoReplacementRules) {
  // Lone or mismatched surrogates become U+FFFD; the next escape is kept.
  EXPECT_EQ(Decode(R"(["\ud800"])"), Strings{"\ufffd"});
  EXPECT_EQ(Decode(R"(["\udc00\ud800"])"), Strings{"\ufffd\ufffd"});
  EXPECT_EQ(Decode(R"(["\ud800\u0041"])"), Strings{"\ufffdA"});
  // Invalid UTF-8 is accepted and replaced byte by byte.
  EXPECT_EQ(Decode("[\"a\xff\xed\xa0\x80\"]"),
            Strings{"a\ufffd\ufffd\ufffd\ufffd"});
  // DEL and other high characters pass as they are.
  EXPECT_EQ(Decode("[\"\x7f\u00e9\"]"), Strings{"\x7f\u00e9"});
}

TEST(ParseJsonTest, SyntaxErrors) {
  for (std::string_view text : {"",
                                "[",
                                "[\"a\"",
                                "[\"a\",]",
                                "[,]",
                                "[\"a\" \"b\"]",
                                "['a']",
                                "[\"a\"] x",
                                "[\"\\x\"]",
                                "[\"\\u12\"]",
                                "[\"a\x01\"]",
                                "[01]",
                                "[1.]",
                                "[.5]",
                                "[1e]",
                                "[-]",
                                "[tru]",
                                "[nul]",
                                "[{\"a\"}]",
                                "[{1:2}]",
                                "\"a\"",
                                "{}",
                                "[\"a\"]\v",
                                "[\x0b\"a\"]"}) {
    EXPECT_EQ(Kind(text), JsonArray::kInvalid) << text;
  }
}

TEST(ParseJsonTest, NonStrings) {
  for (std::string_view text :
       {"[1]", "[\"a\", -0.5e-3]", "[true]", "[null]", "[[]]", "[{}]",
        "[{\"a\": [1, {\"b\": null}]}]", "[1e-400]"}) {
    EXPECT_EQ(Kind(text), JsonArray::kNotStrings) << text;
  }
}

TEST(ParseJsonTest, NumbersThatOverflowFloat64FailTheDecode) {
  EXPECT_EQ(Kind("[1e400]"), JsonArray::kInvalid);
  EXPECT_EQ(Kind("[\"a\", {\"k\": [-1e309]}]"), JsonArray::kInvalid);
  EXPECT_EQ(Kind("[1.7976931348623157e308]"), JsonArray::kNotStrings);
  // Just below / at the rounding midpoint to infinity.
  EXPECT_EQ(Kind("[1.7976931348623158e308]"), JsonArray::kNotStrings);
  EXPECT_EQ(Kind("[1.7976931348623159e308]"), JsonArray::kInvalid);
  EXPECT_EQ(Kind("[0.00001e313]"), JsonArray::kNotStrings);
  EXPECT_EQ(Kind("[0.00001e314]"), JsonArray::kInvalid);
  EXPECT_EQ(Kind("[100000e303]"), JsonArray::kNotStrings);
  EXPECT_EQ(Kind("[1e99999999999999999999999]"), JsonArray::kInvalid);
  EXPECT_EQ(Kind("[0e99999999999999999999999]"), JsonArray::kNotStrings);
}

TEST(ParseJsonTest, NestingLimitIsGos) {
  auto nested = [](int depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_EQ(Kind(nested(10000)), JsonArray::kNotStrings);
  EXPECT_EQ(Kind(nested(10001)), JsonArray::kInvalid);
  EXPECT_EQ(Kind(nested(1)), JsonArray::kStrings);
}

}  // namespace
}  // namespace strata::dockerfile::internal
