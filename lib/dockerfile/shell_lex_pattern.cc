// BuildKit's glob patterns for ${V#p}, ${V%p} and ${V/p/r}.
//
// BuildKit turns a pattern into a Go regular expression ('*' -> ".*" or
// ".*?", '?' -> ".", everything else literal) and runs Go's leftmost-first
// matcher. Such a regex is a flat list of literal runes, "any rune but \n"
// and stars, so instead of a regex engine we compute, for every start
// position, the match that a Perl-style backtracker would find. That is
// one pass per pattern element from the last to the first, O(text x
// pattern) time and O(text) memory, with no recursion.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/go_unicode.h"
#include "base/result.h"
#include "base/str.h"
#include "base/utf8.h"
#include "dockerfile/shell_lex_internal.h"

namespace strata::dockerfile::shell_internal {
namespace {

constexpr char32_t kBom = 0xFEFF;

enum class Op { kLiteral, kAny, kStar };

struct Element {
  Op op;
  char32_t rune;  // for kLiteral
};

struct Pattern {
  std::vector<Element> elements;
  bool greedy;  // stars prefer the longest match
};

// Go's text/scanner view of a string: runes with invalid bytes as U+FFFD,
// and a byte order mark at the very start skipped.
std::vector<char32_t> ScanRunes(std::string_view s) {
  std::vector<char32_t> runes;
  bool first = true;
  while (!s.empty()) {
    base::DecodedRune d = base::DecodeRune(s);
    s.remove_prefix(d.size);
    if (!(first && d.rune == kBom)) runes.push_back(d.rune);
    first = false;
  }
  return runes;
}

// convertShellPatternToRegex, producing elements instead of regex text.
base::Result<Pattern> CompilePattern(std::string_view text, bool greedy) {
  std::vector<char32_t> runes = ScanRunes(text);
  Pattern pattern{.elements = {}, .greedy = greedy};
  for (size_t i = 0; i < runes.size(); ++i) {
    char32_t tok = runes[i];
    if (tok == '*') {
      pattern.elements.push_back({Op::kStar, 0});
      continue;
    }
    if (tok == '?') {
      pattern.elements.push_back({Op::kAny, 0});
      continue;
    }
    if (tok == '\\') {
      char32_t next = i + 1 < runes.size() ? runes[i + 1] : 0;
      bool has_next = i + 1 < runes.size();
      // "\}" and "\/" only keep ${...} from ending there; the escape is not
      // part of the pattern.
      if (has_next && (next == '}' || next == '/')) continue;
      ++i;
      if (!has_next || (next != '*' && next != '?' && next != '\\')) {
        // Go prints the EOF rune (-1) with %c as U+FFFD.
        std::string shown;
        base::AppendRune(shown, has_next ? next : base::kRuneError);
        return base::MakeError(base::Code::kParse, "invalid escape '\\", shown,
                               "'");
      }
      tok = next;
    }
    pattern.elements.push_back({Op::kLiteral, tok});
  }
  return pattern;
}

// The text being searched, as Go's regexp steps through it.
struct Text {
  std::vector<char32_t> runes;
  std::vector<size_t> offsets;  // byte offset of each rune, plus the end
};

Text DecodeText(std::string_view s) {
  Text text;
  size_t pos = 0;
  while (pos < s.size()) {
    base::DecodedRune d = base::DecodeRune(s.substr(pos));
    text.runes.push_back(d.rune);
    text.offsets.push_back(pos);
    pos += d.size;
  }
  text.offsets.push_back(pos);
  return text;
}

// For each start rune index t, the end rune index of the match a
// leftmost-first backtracker finds from t, or -1.
std::vector<ptrdiff_t> MatchEnds(const Pattern& pattern, const Text& text) {
  const ptrdiff_t n = static_cast<ptrdiff_t>(text.runes.size());
  std::vector<ptrdiff_t> next(n + 1), cur(n + 1);
  for (ptrdiff_t t = 0; t <= n; ++t) next[t] = t;  // the empty tail matches
  for (size_t e = pattern.elements.size(); e-- > 0;) {
    const Element& el = pattern.elements[e];
    if (el.op == Op::kStar) {
      // A star at t may stop at any q in [t, first '\n' at or after t].
      // Greedy takes the last q whose continuation matches, lazy the first.
      ptrdiff_t pick = -1;
      for (ptrdiff_t t = n; t >= 0; --t) {
        bool can_consume = t < n && text.runes[t] != '\n';
        bool ok_here = next[t] >= 0;
        if (!can_consume) {
          pick = ok_here ? t : -1;
        } else if (pattern.greedy) {
          if (pick < 0 && ok_here) pick = t;
        } else if (ok_here) {
          pick = t;
        }
        cur[t] = pick >= 0 ? next[pick] : -1;
      }
    } else {
      for (ptrdiff_t t = 0; t <= n; ++t) {
        bool ok = t < n && (el.op == Op::kAny ? text.runes[t] != '\n'
                                              : text.runes[t] == el.rune);
        cur[t] = ok ? next[t + 1] : -1;
      }
    }
    next.swap(cur);
  }
  return next;
}

base::Error InvalidPattern(std::string_view pattern, const base::Error& err) {
  return base::MakeError(base::Code::kParse, "invalid pattern (", pattern,
                         ") in substitution: ", err.message());
}

// []rune(s) reversed and turned back into a string.
std::string ReverseString(std::string_view s) {
  std::vector<char32_t> runes;
  while (!s.empty()) {
    base::DecodedRune d = base::DecodeRune(s);
    runes.push_back(d.rune);
    s.remove_prefix(d.size);
  }
  std::string out;
  out.reserve(runes.size());
  for (size_t i = runes.size(); i-- > 0;) base::AppendRune(out, runes[i]);
  return out;
}

// Reverses a pattern but keeps each escape in front of what it escapes:
// "a\*c" -> "c\*a".
std::string ReversePattern(std::string_view pattern) {
  std::vector<char32_t> runes;
  while (!pattern.empty()) {
    base::DecodedRune d = base::DecodeRune(pattern);
    runes.push_back(d.rune);
    pattern.remove_prefix(d.size);
  }
  std::vector<char32_t> out(runes.size());
  const size_t n = runes.size();
  for (size_t i = 0; i < n;) {
    size_t out_idx = n - 1 - i;
    if (runes[i] == '\\' && i != n - 1) {
      out[out_idx - 1] = runes[i];
      out[out_idx] = runes[i + 1];
      i += 2;
    } else {
      out[out_idx] = runes[i];
      ++i;
    }
  }
  std::string s;
  for (char32_t r : out) base::AppendRune(s, r);
  return s;
}

// Go's regexp extract(): parses "name", "{name}" after a '$'. Returns false
// when malformed; otherwise sets the name and how many bytes were used.
bool ExtractName(std::string_view s, std::string_view* name, size_t* used) {
  if (s.empty()) return false;
  bool brace = s[0] == '{';
  size_t start = brace ? 1 : 0;
  size_t i = start;
  while (i < s.size()) {
    base::DecodedRune d = base::DecodeRune(s.substr(i));
    if (!base::GoIsLetter(d.rune) && !base::GoIsDigit(d.rune) &&
        d.rune != '_') {
      break;
    }
    i += d.size;
  }
  if (i == start) return false;
  *name = s.substr(start, i - start);
  if (brace) {
    if (i >= s.size() || s[i] != '}') return false;
    ++i;
  }
  *used = i;
  return true;
}

// Regexp.Expand for a regex without groups: "$$" is '$', "$0" / "${0}" the
// match, any other well-formed name empty, a malformed one literal.
void AppendExpanded(std::string& out, std::string_view tmpl,
                    std::string_view match) {
  while (true) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view name;
    size_t used = 0;
    if (!ExtractName(tmpl, &name, &used)) {
      out.push_back('$');
      continue;
    }
    tmpl.remove_prefix(used);
    // Group 0 is the only group; "00" and such are names, not numbers.
    if (name == "0") out.append(match);
  }
  out.append(tmpl);
}

// Regexp.ReplaceAllString's loop, including its rule against replacing an
// empty match right after a previous match. Nullopt once the output grows
// past `max_output` bytes.
std::optional<std::string> ReplaceAll(const std::vector<ptrdiff_t>& ends,
                                      const Text& text, std::string_view value,
                                      std::string_view replacement,
                                      size_t max_output) {
  const ptrdiff_t n = static_cast<ptrdiff_t>(text.runes.size());
  std::string out;
  size_t last_match_end = 0;
  ptrdiff_t search = 0;  // rune index
  while (search <= n) {
    ptrdiff_t start = search;
    while (start <= n && ends[start] < 0) ++start;
    if (start > n) break;
    size_t a0 = text.offsets[start];
    size_t a1 = text.offsets[ends[start]];
    out.append(value.substr(last_match_end, a0 - last_match_end));
    if (a1 > last_match_end || a0 == 0) {
      AppendExpanded(out, replacement, value.substr(a0, a1 - a0));
      if (out.size() > max_output) return std::nullopt;
    }
    last_match_end = a1;
    // Always advance at least one rune.
    if (search < n && text.offsets[search + 1] > a1) {
      ++search;
    } else if (search == n) {
      break;
    } else {
      search = ends[start];
    }
  }
  out.append(value.substr(last_match_end));
  if (out.size() > max_output) return std::nullopt;
  return out;
}

}  // namespace

base::Result<std::string> TrimPrefix(std::string_view pattern,
                                     std::string_view value, bool greedy) {
  base::Result<Pattern> compiled = CompilePattern(pattern, greedy);
  if (!compiled) return InvalidPattern(pattern, compiled.error());
  Text text = DecodeText(value);
  std::vector<ptrdiff_t> ends = MatchEnds(*compiled, text);
  if (ends[0] < 0) return std::string(value);
  return std::string(value.substr(text.offsets[ends[0]]));
}

base::Result<std::string> TrimSuffix(std::string_view pattern,
                                     std::string_view value, bool greedy) {
  // A leftmost search cannot find the shortest rightmost match, so BuildKit
  // reverses both the pattern and the value.
  STRATA_ASSIGN_OR_RETURN(
      std::string trimmed,
      TrimPrefix(ReversePattern(pattern), ReverseString(value), greedy));
  return ReverseString(trimmed);
}

base::Result<std::optional<std::string>> ReplacePattern(
    std::string_view pattern, std::string_view value,
    std::string_view replacement, bool replace_all, size_t max_output) {
  base::Result<Pattern> compiled = CompilePattern(pattern, /*greedy=*/true);
  if (!compiled) return InvalidPattern(pattern, compiled.error());
  Text text = DecodeText(value);
  std::vector<ptrdiff_t> ends = MatchEnds(*compiled, text);
  if (replace_all)
    return ReplaceAll(ends, text, value, replacement, max_output);
  for (size_t t = 0; t < ends.size(); ++t) {
    if (ends[t] < 0) continue;
    size_t a0 = text.offsets[t];
    size_t a1 = text.offsets[ends[t]];
    return base::StrCat(value.substr(0, a0), replacement, value.substr(a1));
  }
  return std::string(value);
}

}  // namespace strata::dockerfile::shell_internal
