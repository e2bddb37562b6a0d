#include "context/pattern_matcher.h"

#include "base/str.h"
#include "base/utf8.h"
#include "context/glob.h"
#include "context/safe_path.h"

namespace strata::context {
namespace {

using base::Code;

constexpr char32_t kBom = 0xFEFF;

base::Error BadPattern() {
  return base::Error(Code::kParse, std::string(kBadPatternText));
}

// Regexp metacharacters that mean nothing to filepath.Match and so are
// escaped (patternmatcher's shouldEscape). Upstream means `.+()|{}$`, but its
// bitmap is a [8]byte indexed by c/8, so `{`, `|` and `}` (c >= 64) shift out
// of the byte and stay unescaped: they reach the regexp as alternation and
// counted repetition. We must do the same.
bool ShouldEscape(char32_t c) {
  return c == '.' || c == '+' || c == '(' || c == ')' || c == '$';
}

// Reads the pattern as text/scanner does: runes, an invalid byte becoming
// U+FFFD, and a byte-order mark at the very start skipped.
std::vector<char32_t> ScanRunes(std::string_view s) {
  std::vector<char32_t> runes;
  while (!s.empty()) {
    base::DecodedRune r = base::DecodeRune(s);
    s.remove_prefix(r.size);
    runes.push_back(r.rune);
  }
  if (!runes.empty() && runes[0] == kBom) runes.erase(runes.begin());
  return runes;
}

struct Compiled {
  MatchType type = MatchType::kExact;
  std::string regexp;  // with "^", without the final "$"
};

// Pattern.compile: translates the glob and detects the cheapest match type.
Compiled Translate(std::string_view pattern, char sep) {
  const std::vector<char32_t> runes = ScanRunes(pattern);
  const std::string esc_sep = sep == '\\' ? "\\\\" : "/";
  Compiled c;
  c.regexp = "^";
  size_t k = 0;
  for (size_t i = 0; k < runes.size(); ++i) {
    char32_t ch = runes[k++];
    if (ch == '*') {
      if (k < runes.size() && runes[k] == '*') {
        ++k;
        // "**/" is treated as "**": eat the separator.
        if (k < runes.size() && runes[k] == static_cast<char32_t>(sep)) ++k;
        if (k == runes.size()) {
          // A trailing "**" accepts everything, as in .gitignore.
          if (c.type == MatchType::kExact) {
            c.type = MatchType::kPrefix;
          } else {
            c.regexp += ".*";
            c.type = MatchType::kRegexp;
          }
        } else {
          // Any number of directories, even none.
          base::StrAppend(c.regexp, "(.*", esc_sep, ")?");
          c.type = MatchType::kRegexp;
        }
        if (i == 0) c.type = MatchType::kSuffix;
      } else {
        base::StrAppend(c.regexp, "[^", esc_sep, "]*");
        c.type = MatchType::kRegexp;
      }
    } else if (ch == '?') {
      base::StrAppend(c.regexp, "[^", esc_sep, "]");
      c.type = MatchType::kRegexp;
    } else if (ShouldEscape(ch)) {
      c.regexp.push_back('\\');
      c.regexp.push_back(static_cast<char>(ch));
    } else if (ch == '\\') {
      // On Windows '\' is the separator and filepath.Match has no escapes.
      if (sep == '\\') {
        c.regexp += esc_sep;
        continue;
      }
      if (k < runes.size()) {
        c.regexp.push_back('\\');
        base::AppendRune(c.regexp, runes[k++]);
        c.type = MatchType::kRegexp;
      } else {
        c.regexp.push_back('\\');
      }
    } else if (ch == '[' || ch == ']') {
      c.regexp.push_back(static_cast<char>(ch));
      c.type = MatchType::kRegexp;
    } else {
      base::AppendRune(c.regexp, ch);
    }
  }
  return c;
}

}  // namespace

std::string_view MatchTypeName(MatchType type) {
  switch (type) {
    case MatchType::kExact:
      return "exact";
    case MatchType::kPrefix:
      return "prefix";
    case MatchType::kSuffix:
      return "suffix";
    case MatchType::kRegexp:
      return "regexp";
    case MatchType::kUnknown:
      break;
  }
  return "unknown";
}

Pattern Pattern::Compile(std::string cleaned, bool exclusion, char separator) {
  Pattern p;
  p.dirs_ = base::Split(cleaned, separator);
  p.cleaned_ = std::move(cleaned);
  p.exclusion_ = exclusion;
  p.separator_ = separator;
  Compiled c = Translate(p.cleaned_, separator);
  p.type_ = c.type;
  if (c.type == MatchType::kRegexp) {
    c.regexp += "$";
    p.regexp_source_ = c.regexp;
    base::Result<GoRegexp> re = GoRegexp::Compile(c.regexp);
    if (re) {
      p.regexp_ = std::make_shared<const GoRegexp>(std::move(*re));
    } else {
      p.type_ = MatchType::kUnknown;
    }
  }
  return p;
}

base::Result<bool> Pattern::Match(std::string_view path) const {
  switch (type_) {
    case MatchType::kExact:
      return path == cleaned_;
    case MatchType::kPrefix:
      // Strip the trailing "**".
      return base::StartsWith(
          path, std::string_view(cleaned_).substr(0, cleaned_.size() - 2));
    case MatchType::kSuffix: {
      // Strip the leading "**"; "**/foo" also matches "foo" itself.
      std::string_view suffix = std::string_view(cleaned_).substr(2);
      if (base::EndsWith(path, suffix)) return true;
      return suffix[0] == separator_ && path == suffix.substr(1);
    }
    case MatchType::kRegexp:
      return regexp_->MatchString(path);
    case MatchType::kUnknown:
      break;
  }
  return BadPattern();
}

base::Result<PatternMatcher> PatternMatcher::New(
    const std::vector<std::string>& patterns) {
  PatternMatcher pm;
  pm.patterns_.reserve(patterns.size());
  for (const std::string& raw : patterns) {
    std::string_view trimmed = base::TrimUnicodeSpace(raw);
    if (trimmed.empty()) continue;
    std::string p = CleanPath(trimmed);
    bool exclusion = false;
    if (p[0] == '!') {
      if (p.size() == 1) {
        return base::Error(Code::kParse, "illegal exclusion pattern: \"!\"");
      }
      exclusion = true;
      p.erase(0, 1);
      pm.exclusions_ = true;
    }
    // Upstream relies on filepath.Match for syntax checking.
    base::Result<bool> valid = GlobMatch(p, ".");
    if (!valid) return std::move(valid).error();
    pm.patterns_.push_back(Pattern::Compile(std::move(p), exclusion));
  }
  return pm;
}

namespace {

// The parent directories of `file` as upstream computes them: the
// components of filepath.Dir(file), or none when that is ".".
std::vector<std::string> ParentDirs(std::string_view file) {
  std::string parent = DirName(file);
  if (parent == ".") return {};
  return base::Split(parent, '/');
}

// Whether any prefix dirs[0..i] (i = 0, 1, ...) matches `p`. Errors count
// as no match, as upstream ignores them here.
bool AnyParentMatches(const Pattern& p, const std::vector<std::string>& dirs) {
  std::string prefix;
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (i > 0) prefix.push_back('/');
    prefix += dirs[i];
    base::Result<bool> m = p.Match(prefix);
    if (m && *m) return true;
  }
  return false;
}

}  // namespace

base::Result<bool> PatternMatcher::MatchesOrParentMatches(
    std::string_view file) const {
  const std::vector<std::string> dirs = ParentDirs(file);
  bool matched = false;
  for (const Pattern& p : patterns_) {
    // An inclusion cannot change a matched path, nor an exclusion an
    // unmatched one.
    if (p.exclusion() != matched) continue;
    STRATA_ASSIGN_OR_RETURN(bool match, p.Match(file));
    if (!match) match = AnyParentMatches(p, dirs);
    if (match) matched = !p.exclusion();
  }
  return matched;
}

base::Result<bool> PatternMatcher::MatchesUsingParentResults(
    std::string_view file, const MatchInfo& parent, MatchInfo* info) const {
  const std::vector<bool>& parent_matched = parent.parent_matched;
  if (!parent_matched.empty() && parent_matched.size() != patterns_.size()) {
    return base::Error(Code::kInternal,
                       "wrong number of values in parentMatched");
  }
  MatchInfo out;
  out.parent_matched.assign(patterns_.size(), false);
  bool matched = false;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    const Pattern& p = patterns_[i];
    // A pattern that matched the parent matches the child too.
    bool match = !parent_matched.empty() && parent_matched[i];
    if (!match) {
      if (p.exclusion() != matched) continue;
      STRATA_ASSIGN_OR_RETURN(match, p.Match(file));
      // Without parent results, check the parents directly.
      if (!match && parent_matched.empty()) {
        match = AnyParentMatches(p, ParentDirs(file));
      }
    }
    out.parent_matched[i] = match;
    if (match) matched = !p.exclusion();
  }
  *info = std::move(out);
  return matched;
}

base::Result<bool> PatternMatcher::MatchesExact(std::string_view file) const {
  bool matched = false;
  for (const Pattern& p : patterns_) {
    if (p.exclusion() != matched) continue;
    STRATA_ASSIGN_OR_RETURN(bool match, p.Match(file));
    if (match) matched = !p.exclusion();
  }
  return matched;
}

base::Result<bool> PatternMatcher::MatchesDeprecated(
    std::string_view file) const {
  const std::vector<std::string> dirs = ParentDirs(file);
  bool matched = false;
  for (const Pattern& p : patterns_) {
    if (p.exclusion() != matched) continue;
    STRATA_ASSIGN_OR_RETURN(bool match, p.Match(file));
    // The bug that deprecated this API: only the parent prefix with as many
    // components as the pattern is tried.
    if (!match && !dirs.empty() && p.dirs().size() <= dirs.size()) {
      std::vector<std::string> prefix(dirs.begin(),
                                      dirs.begin() + p.dirs().size());
      base::Result<bool> m = p.Match(base::Join(prefix, "/"));
      match = m && *m;
    }
    if (match) matched = !p.exclusion();
  }
  return matched;
}

base::Result<bool> Matches(std::string_view file,
                           const std::vector<std::string>& patterns) {
  STRATA_ASSIGN_OR_RETURN(PatternMatcher pm, PatternMatcher::New(patterns));
  std::string clean = CleanPath(file);
  // Excluding the whole context is not allowed.
  if (clean == ".") return false;
  return pm.MatchesDeprecated(clean);
}

base::Result<bool> MatchesOrParentMatches(
    std::string_view file, const std::vector<std::string>& patterns) {
  STRATA_ASSIGN_OR_RETURN(PatternMatcher pm, PatternMatcher::New(patterns));
  std::string clean = CleanPath(file);
  if (clean == ".") return false;
  return pm.MatchesOrParentMatches(clean);
}

}  // namespace strata::context
