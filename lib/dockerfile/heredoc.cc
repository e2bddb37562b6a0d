#include "dockerfile/heredoc.h"

#include <algorithm>
#include <climits>

#include "base/str.h"
#include "dockerfile/parse_words.h"

namespace strata::dockerfile {
namespace {

// RE2's \s: [\t\n\f\r ].
bool IsReSpace(char c) {
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

size_t CountQuotes(std::string_view s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\'') +
                             std::count(s.begin(), s.end(), '"'));
}

// strconv.ParseUint(digits, 10, 0) with its error ignored: 0 for "", the
// largest value on overflow; then clamped to what Heredoc can hold.
int ParseDescriptor(std::string_view digits) {
  if (digits.empty()) return 0;
  unsigned long long value = 0;
  for (char c : digits) {
    unsigned long long d = static_cast<unsigned long long>(c - '0');
    if (value > (ULLONG_MAX - d) / 10) return INT_MAX;
    value = value * 10 + d;
  }
  return value > static_cast<unsigned long long>(INT_MAX)
             ? INT_MAX
             : static_cast<int>(value);
}

}  // namespace

base::Result<std::optional<Heredoc>> ParseHeredoc(std::string_view word) {
  // ^(\d*)<<(-?)\s*([^<]*)$
  size_t pos = 0;
  while (pos < word.size() && word[pos] >= '0' && word[pos] <= '9') ++pos;
  std::string_view digits = word.substr(0, pos);
  if (word.substr(pos, 2) != "<<") return std::optional<Heredoc>();
  pos += 2;
  bool chomp = pos < word.size() && word[pos] == '-';
  if (chomp) ++pos;
  while (pos < word.size() && IsReSpace(word[pos])) ++pos;
  std::string_view rest = word.substr(pos);
  if (rest.find('<') != std::string_view::npos) return std::optional<Heredoc>();
  if (rest.empty()) return std::optional<Heredoc>();

  // Lex the name with and without its quotes: if the counts of quote
  // characters differ, some part of it was quoted.
  STRATA_ASSIGN_OR_RETURN(
      std::vector<std::string> words,
      internal::ProcessHeredocWords(rest, {.raw_quotes = false}));
  if (words.size() != 1) return std::optional<Heredoc>();
  STRATA_ASSIGN_OR_RETURN(
      std::vector<std::string> raw_words,
      internal::ProcessHeredocWords(rest, {.raw_quotes = true}));
  if (raw_words.size() != words.size()) {
    return base::MakeError(
        base::Code::kParse,
        "internal lexing of heredoc produced inconsistent results: ", rest);
  }
  Heredoc heredoc;
  heredoc.expand = CountQuotes(words[0]) == CountQuotes(raw_words[0]);
  heredoc.name = std::move(words[0]);
  heredoc.chomp = chomp;
  heredoc.file_descriptor = ParseDescriptor(digits);
  return std::optional<Heredoc>(std::move(heredoc));
}

base::Result<std::vector<Heredoc>> HeredocsFromLine(std::string_view line) {
  base::Result<std::vector<std::string>> words = internal::ProcessHeredocWords(
      line, {.raw_quotes = true, .raw_escapes = true});
  std::vector<Heredoc> docs;
  // BuildKit ignores a lexing error here: the line simply opens no heredoc.
  if (!words) return docs;
  for (const std::string& word : *words) {
    STRATA_ASSIGN_OR_RETURN(std::optional<Heredoc> heredoc, ParseHeredoc(word));
    if (heredoc) docs.push_back(std::move(*heredoc));
  }
  return docs;
}

std::string ChompHeredocContent(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out.push_back(c);
  }
  return out;
}

}  // namespace strata::dockerfile
