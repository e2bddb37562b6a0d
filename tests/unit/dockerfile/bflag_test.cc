// BFlags (bflag.go) and the did-you-mean suggestions (util/suggest), plus
// the Go standard-library ports the instruction model relies on.
#include "dockerfile/bflag.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dockerfile/instructions_internal.h"

namespace strata::dockerfile {
namespace {

namespace ii = instr_internal;
using Strings = std::vector<std::string>;

TEST(BFlagsTest, ParsesDeclaredFlags) {
  BFlags flags({"--str=a=b", "--bool", "--list=x", "--list=", "--off=FALSE"});
  BFlags::Flag* str = flags.AddString("str", "def");
  BFlags::Flag* b = flags.AddBool("bool", false);
  BFlags::Flag* list = flags.AddStrings("list");
  BFlags::Flag* off = flags.AddBool("off", true);
  BFlags::Flag* unused = flags.AddString("unused", "dflt");
  ASSERT_TRUE(flags.Parse().has_value());
  EXPECT_EQ(str->value, "a=b");
  EXPECT_EQ(b->value, "true");
  EXPECT_EQ(list->values, (Strings{"x", ""}));
  EXPECT_EQ(off->value, "false");
  EXPECT_EQ(unused->value, "dflt");
  EXPECT_EQ(flags.used(), (Strings{"str", "bool", "list", "off"}));
  EXPECT_TRUE(flags.IsUsed("list"));
  EXPECT_FALSE(flags.IsUsed("unused"));
}

TEST(BFlagsTest, DoubleDashEndsFlags) {
  BFlags flags({"--a=1", "--", "--bogus"});
  flags.AddString("a", "");
  EXPECT_TRUE(flags.Parse().has_value());
}

std::string ParseError(Strings args) {
  BFlags flags(std::move(args));
  flags.AddString("from", "");
  flags.AddBool("link", false);
  flags.AddStrings("exclude");
  auto status = flags.Parse();
  return status ? "<ok>" : status.error().message();
}

TEST(BFlagsTest, Errors) {
  EXPECT_EQ(ParseError({"-x"}), "arg should start with -- : -x");
  EXPECT_EQ(ParseError({"--frm=a"}),
            "unknown flag: --frm (did you mean from?)");
  EXPECT_EQ(ParseError({"--zzzz"}), "unknown flag: --zzzz");
  EXPECT_EQ(ParseError({"--From=a"}),
            "unknown flag: --From (did you mean from?)");
  EXPECT_EQ(ParseError({"--from=a", "--from=b"}),
            "duplicate flag specified: --from");
  EXPECT_EQ(ParseError({"--link", "--link=false"}),
            "duplicate flag specified: --link");
  EXPECT_EQ(ParseError({"--exclude=a", "--exclude=b"}), "<ok>");
  EXPECT_EQ(ParseError({"--from"}), "missing a value on flag: --from");
  EXPECT_EQ(ParseError({"--exclude"}), "missing a value on flag: --exclude");
  EXPECT_EQ(ParseError({"--link="}), "missing a value on flag: --link");
  EXPECT_EQ(ParseError({"--link=TRUE"}), "<ok>");
  EXPECT_EQ(ParseError({"--link=1"}),
            "expecting boolean value for flag --link, not: 1");
}

TEST(BFlagsTest, DuplicateDefinitionFailsAtParse) {
  BFlags flags({});
  EXPECT_NE(flags.AddString("a", ""), nullptr);
  EXPECT_EQ(flags.AddBool("a", false), nullptr);
  auto status = flags.Parse();
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message(),
            "error setting up flags: Duplicate flag defined: a");
}

TEST(SuggestTest, MatchRules) {
  Strings names = {"RUN", "FROM", "COPY"};
  EXPECT_EQ(SuggestMatch("RUNN", names, false), "RUN");
  EXPECT_EQ(SuggestMatch("runn", names, false), "run");
  EXPECT_EQ(SuggestMatch("Runn", names, false), "run");
  EXPECT_EQ(SuggestMatch("run", names, false), "");  // exact: unrelated
  EXPECT_EQ(SuggestMatch("xxxxxx", names, false), "");
  EXPECT_EQ(SuggestMatch("runn", names, true), "");
  EXPECT_EQ(SuggestMatch("RUNN", {"RUNXX", "RUN"}, true), "RUN");  // closest
  EXPECT_EQ(WithSuggestion("bad", "cpy", {"copy"}, true),
            "bad (did you mean copy?)");
  EXPECT_EQ(ii::Levenshtein("kitten", "sitting"), 3);
  EXPECT_EQ(ii::Levenshtein("h\xC3\xA9llo", "hello"), 1);  // runes, not bytes
}

TEST(GoCompatTest, ParseDuration) {
  auto d = [](std::string_view s) -> std::string {
    auto r = ii::ParseDuration(s);
    return r ? std::to_string(*r) : r.error().message();
  };
  EXPECT_EQ(d("0"), "0");
  EXPECT_EQ(d("-0"), "0");
  EXPECT_EQ(d("1h2m3.5s"), "3723500000000");
  EXPECT_EQ(d("1.5ms"), "1500000");
  EXPECT_EQ(d(".5s"), "500000000");
  EXPECT_EQ(d("5.s"), "5000000000");
  EXPECT_EQ(d("-1.5h"), "-5400000000000");
  EXPECT_EQ(d("+2us"), "2000");
  EXPECT_EQ(d("3\xC2\xB5s"), "3000");
  EXPECT_EQ(d("3\xCE\xBCs"), "3000");
  EXPECT_EQ(d("1ns"), "1");
  EXPECT_EQ(d("2562047h47m16.854775807s"), "9223372036854775807");
  EXPECT_EQ(d("2562048h"), "time: invalid duration \"2562048h\"");
  EXPECT_EQ(d(""), "time: invalid duration \"\"");
  EXPECT_EQ(d("."), "time: invalid duration \".\"");
  EXPECT_EQ(d("s"), "time: invalid duration \"s\"");
  EXPECT_EQ(d("1"), "time: missing unit in duration \"1\"");
  EXPECT_EQ(d("1s2"), "time: missing unit in duration \"1s2\"");
  EXPECT_EQ(d("1d"), "time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_EQ(d("1\xE2\x82\xAC"),
            "time: unknown unit \"\\xe2\\x82\\xac\" in duration "
            "\"1\\xe2\\x82\\xac\"");
}

TEST(GoCompatTest, ParseIntAndUint) {
  int64_t i = 0;
  uint64_t u = 0;
  EXPECT_EQ(ii::ParseInt("-2147483648", 10, 32, &i), ii::NumError::kNone);
  EXPECT_EQ(i, -2147483648LL);
  EXPECT_EQ(ii::ParseInt("2147483648", 10, 32, &i), ii::NumError::kRange);
  EXPECT_EQ(ii::ParseInt("+7", 10, 32, &i), ii::NumError::kNone);
  EXPECT_EQ(i, 7);
  EXPECT_EQ(ii::ParseInt("", 10, 32, &i), ii::NumError::kSyntax);
  EXPECT_EQ(ii::ParseInt("-", 10, 32, &i), ii::NumError::kSyntax);
  EXPECT_EQ(ii::ParseInt("1_0", 10, 32, &i), ii::NumError::kSyntax);
  EXPECT_EQ(ii::ParseUint("777", 8, 32, &u), ii::NumError::kNone);
  EXPECT_EQ(u, 0777u);
  EXPECT_EQ(ii::ParseUint("8", 8, 32, &u), ii::NumError::kSyntax);
  EXPECT_EQ(ii::ParseUint("+1", 10, 32, &u), ii::NumError::kSyntax);
  EXPECT_EQ(ii::ParseUint("4294967295", 10, 32, &u), ii::NumError::kNone);
  EXPECT_EQ(ii::ParseUint("4294967296", 10, 32, &u), ii::NumError::kRange);
  EXPECT_EQ(ii::NumErrorText("ParseInt", "x", ii::NumError::kSyntax),
            "strconv.ParseInt: parsing \"x\": invalid syntax");
}

TEST(GoCompatTest, RamInBytes) {
  int64_t n = 0;
  auto size = [&n](std::string_view s) {
    return ii::RamInBytes(s, &n) ? std::to_string(n) : "invalid";
  };
  EXPECT_EQ(size("32"), "32");
  EXPECT_EQ(size("32b"), "32");
  EXPECT_EQ(size("32B"), "32");
  EXPECT_EQ(size("32k"), "32768");
  EXPECT_EQ(size("32kb"), "32768");
  EXPECT_EQ(size("32KiB"), "32768");
  EXPECT_EQ(size("32 Mi"), "invalid");
  EXPECT_EQ(size("32 MiB"), "33554432");
  EXPECT_EQ(size("0.5g"), "536870912");
  EXPECT_EQ(size("1e3"), "1000");
  EXPECT_EQ(size("1p"), "1125899906842624");
  EXPECT_EQ(size("1x"), "invalid");
  EXPECT_EQ(size("1kib2"), "invalid");
  EXPECT_EQ(size("1bb"), "invalid");
  EXPECT_EQ(size("1kibb"), "invalid");
  EXPECT_EQ(size("k"), "invalid");
  EXPECT_EQ(size("-1"), "invalid");
  EXPECT_EQ(size("1.2.3"), "invalid");
  EXPECT_EQ(size(""), "invalid");
}

TEST(GoCompatTest, CaseHelpers) {
  EXPECT_TRUE(ii::EqualFoldAs("as"));
  EXPECT_TRUE(ii::EqualFoldAs("aS"));
  EXPECT_TRUE(ii::EqualFoldAs("a\xC5\xBF"));  // long s folds to s
  EXPECT_FALSE(ii::EqualFoldAs("ass"));
  EXPECT_FALSE(ii::EqualFoldAs("a"));
  bool b = false;
  EXPECT_TRUE(ii::ParseBool("True", &b));
  EXPECT_TRUE(b);
  EXPECT_TRUE(ii::ParseBool("0", &b));
  EXPECT_FALSE(b);
  EXPECT_FALSE(ii::ParseBool("yes", &b));
  EXPECT_FALSE(ii::ParseBool("tRUE", &b));
}

}  // namespace
}  // namespace strata::dockerfile
