#include "dockerfile/heredoc.h"

#include <gtest/gtest.h>

#include <climits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/str.h"
#include "support/test_support.h"

namespace strata::dockerfile {
namespace {

using nlohmann::json;
using strata::testing::ReadTestFile;
using strata::testing::SanitizeTestName;
using strata::testing::TestdataPath;

// --- parser-heredoc/heredoc_words.tsv, one instance per row. ---------------

struct WordsRow {
  int line = 0;
  std::string function, input, expected;
};

std::vector<WordsRow> LoadRows() {
  std::vector<std::string> lines = base::Split(
      ReadTestFile(
          TestdataPath("conformance/parser-heredoc/heredoc_words.tsv")),
      '\n');
  std::vector<WordsRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string> cols = base::Split(lines[i], '\t');
    WordsRow row;
    row.line = static_cast<int>(i) + 1;
    if (cols.size() == 3) {
      json input = json::parse(cols[1], nullptr, false);
      row.function = cols[0];
      row.input = input.is_string() ? input.get<std::string>() : "";
      row.expected = cols[2];
    }
    rows.push_back(row);
  }
  return rows;
}

class HeredocWordsTest : public ::testing::TestWithParam<WordsRow> {};

TEST_P(HeredocWordsTest, MatchesExpected) {
  const WordsRow& row = GetParam();
  ASSERT_FALSE(row.function.empty()) << "malformed row " << row.line;
  SCOPED_TRACE(row.function + "(" + row.input + ")");
  if (row.function == "ParseHeredoc") {
    base::Result<std::optional<Heredoc>> r = ParseHeredoc(row.input);
    std::string got = !r ? "<error>" : !*r ? "<none>" : (*r)->name;
    EXPECT_EQ(got, row.expected);
    return;
  }
  ASSERT_EQ(row.function, "heredocsFromLine");
  base::Result<std::vector<Heredoc>> r = HeredocsFromLine(row.input);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  std::vector<std::string> names;
  for (const Heredoc& h : *r) names.push_back(h.name);
  std::vector<std::string> expected =
      json::parse(row.expected, nullptr, false).get<std::vector<std::string>>();
  if (row.input == "RUN <<- EOF") {
    // Transcribed from parser_heredoc_test.go, whose loop only compares the
    // heredocs it gets, so this case passes upstream with none. BuildKit's
    // lexer keeps "<<" plus following blanks together but not "<<-" plus
    // blanks, so "<<-" and "EOF" are two words and neither opens a heredoc.
    EXPECT_TRUE(names.empty());
    EXPECT_EQ(expected, std::vector<std::string>{"EOF"});
    return;
  }
  EXPECT_EQ(names, expected);
}

INSTANTIATE_TEST_SUITE_P(Conformance, HeredocWordsTest,
                         ::testing::ValuesIn(LoadRows()),
                         [](const ::testing::TestParamInfo<WordsRow>& info) {
                           return SanitizeTestName(
                               "row" + std::to_string(info.param.line) + "_" +
                               info.param.function + "_" + info.param.input);
                         });

// --- ParseHeredoc details. ---------------------------------------------------

Heredoc MakeHeredoc(std::string name, int fd = 0, bool expand = true,
                    bool chomp = false) {
  Heredoc h;
  h.name = std::move(name);
  h.file_descriptor = fd;
  h.expand = expand;
  h.chomp = chomp;
  return h;
}

Heredoc MustParse(std::string_view word) {
  base::Result<std::optional<Heredoc>> r = ParseHeredoc(word);
  EXPECT_TRUE(r.has_value()) << word;
  if (!r || !*r) {
    ADD_FAILURE() << "no heredoc in " << word;
    return Heredoc();
  }
  return **r;
}

TEST(ParseHeredocTest, FieldsFromTheWord) {
  Heredoc h = MustParse("<<EOF");
  EXPECT_EQ(h, MakeHeredoc("EOF"));
  h = MustParse("3<<-'END'");
  EXPECT_EQ(h, MakeHeredoc("END", 3, false, true));
  // An escaped quote is part of the name and does not stop expansion.
  h = MustParse("<<eo\\'f");
  EXPECT_EQ(h.name, "eo'f");
  EXPECT_TRUE(h.expand);
  EXPECT_FALSE(MustParse("<<'e'o\\'f").expand);
  EXPECT_EQ(MustParse("<<'one two'").name, "one two");
  // Unset variables are kept as written.
  EXPECT_EQ(MustParse("<<$EOF").name, "$EOF");
  EXPECT_EQ(MustParse("<<${EOF:-x}").name, "${EOF:-x}");
  // strconv.ParseUint overflow gives the largest value; it is clamped.
  EXPECT_EQ(MustParse("99999999999999999999999<<E").file_descriptor, INT_MAX);
}

TEST(ParseHeredocTest, ErrorsCarryBuildKitsText) {
  base::Result<std::optional<Heredoc>> r = ParseHeredoc("<<'EOF");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "failed to process \"'EOF\": unexpected end of statement while "
            "looking for matching single-quote");
  r = ParseHeredoc("<<${");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "failed to process \"${\": syntax error: missing '}'");
}

TEST(HeredocsFromLineTest, SeveralPerLineInOrder) {
  base::Result<std::vector<Heredoc>> r =
      HeredocsFromLine("COPY <<FILE1 2<<-\"FILE2\" /dest");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], MakeHeredoc("FILE1"));
  EXPECT_EQ((*r)[1], MakeHeredoc("FILE2", 2, false, true));
}

TEST(HeredocsFromLineTest, QuirksOfTheLexer) {
  auto names = [](std::string_view line) {
    std::vector<std::string> out;
    base::Result<std::vector<Heredoc>> r = HeredocsFromLine(line);
    if (!r) return std::vector<std::string>{"<error>"};
    for (const Heredoc& h : *r) out.push_back(h.name);
    return out;
  };
  // Blanks after "<<" stay in its word.
  EXPECT_EQ(names("RUN <<  EOF  > foo"), std::vector<std::string>{"EOF"});
  // "<<" must start a word.
  EXPECT_TRUE(names("RUN cat<<EOF").empty());
  // A line the lexer cannot split opens no heredoc (no error either).
  EXPECT_TRUE(names("RUN <<EOF 'unterminated").empty());
  // A nested ${...} clears the word built so far, as BuildKit's shared
  // buffer does: "<<" is lost here.
  EXPECT_TRUE(names("RUN <<${X:-EOF}").empty());
  // Quotes may hold blanks, and each word is tried on its own.
  EXPECT_EQ(names("RUN 3<<EOF x 4<<-'E F'"),
            (std::vector<std::string>{"EOF", "E F"}));
}

TEST(ChompHeredocContentTest, RemovesLeadingTabsOfEachLine) {
  EXPECT_EQ(ChompHeredocContent("\thello\n\tworld\n"), "hello\nworld\n");
  EXPECT_EQ(ChompHeredocContent("\t\ta\t\n \tb\n\t"), "a\t\n \tb\n");
  EXPECT_EQ(ChompHeredocContent(""), "");
}

}  // namespace
}  // namespace strata::dockerfile
