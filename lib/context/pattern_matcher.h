// .dockerignore pattern matching: a port of moby/patternmatcher.
//
// Each pattern is cleaned (TrimSpace, filepath.Clean, a leading '!' marks
// an exclusion, i.e. a re-include) and compiled to one of four matchers:
//   exact   no wildcard:                      path == pattern
//   prefix  "dir/**" (only literal text before the "**"):
//                                             path starts with "dir/"
//   suffix  leading "**" ("**/dir", "**file"): path ends with the rest, or
//                                             "**/x" equals "x"
//   regexp  anything else; `*` -> [^/]*, `?` -> [^/], `**/` -> (.*/)?,
//           trailing `**` -> .*, `.+()$` escaped, `\c` -> \c, and `[`, `]`,
//           `^`, `|`, `{`, `}` passed through (upstream's escape table
//           misses `|{}`); the expression is wrapped in ^...$ and run with
//           Go's regexp semantics (see go_regexp.h).
// Patterns apply in order and the last one that matches wins; an exclusion
// is only tried once the path is already matched (and an inclusion only
// while it is not). A path also matches when one of its parent directories
// does, which is how "dir" excludes "dir/file".
#ifndef STRATA_CONTEXT_PATTERN_MATCHER_H_
#define STRATA_CONTEXT_PATTERN_MATCHER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "context/go_regexp.h"

namespace strata::context {

/// How a compiled pattern matches (patternmatcher's matchType). kUnknown
/// means the generated regexp did not compile: matching then fails with
/// ErrBadPattern, as upstream does.
enum class MatchType { kUnknown, kExact, kPrefix, kSuffix, kRegexp };

/// "unknown", "exact", "prefix", "suffix" or "regexp".
std::string_view MatchTypeName(MatchType type);

/// One compiled pattern (patternmatcher.Pattern).
class Pattern {
 public:
  /// Compiles an already cleaned pattern (no leading '!') for paths whose
  /// separator is `separator`: '/' here, '\\' for the Windows variant that
  /// upstream also tests (only the compiled form differs).
  static Pattern Compile(std::string cleaned, bool exclusion,
                         char separator = '/');

  /// The cleaned pattern without its '!' (Pattern.String()).
  const std::string& str() const { return cleaned_; }
  /// True for a '!' pattern, which re-includes what earlier ones matched.
  bool exclusion() const { return exclusion_; }
  /// The pattern split at the separator (used by the deprecated Matches).
  const std::vector<std::string>& dirs() const { return dirs_; }
  MatchType match_type() const { return type_; }
  /// The generated expression ("^...$") when match_type() is kRegexp (or
  /// kUnknown, the text that failed to compile); empty otherwise.
  const std::string& regexp_source() const { return regexp_source_; }

  /// Pattern.match: whether `path` (separator-delimited, as given) matches
  /// this one pattern. Fails with kParse "syntax error in pattern" when the
  /// regexp did not compile.
  base::Result<bool> Match(std::string_view path) const;

 private:
  std::string cleaned_;
  bool exclusion_ = false;
  char separator_ = '/';
  std::vector<std::string> dirs_;
  MatchType type_ = MatchType::kUnknown;
  std::string regexp_source_;
  std::shared_ptr<const GoRegexp> regexp_;
};

/// Per-pattern results for a directory, handed to its children so they need
/// not re-check their parents (patternmatcher.MatchInfo). Default: unknown.
struct MatchInfo {
  std::vector<bool> parent_matched;
};

/// An ordered list of patterns (patternmatcher.PatternMatcher). Immutable
/// after New, so it may be shared between threads.
class PatternMatcher {
 public:
  /// patternmatcher.New: trims, cleans and drops empty patterns; fails with
  /// kParse `illegal exclusion pattern: "!"` for a lone '!' and "syntax
  /// error in pattern" for a pattern filepath.Match rejects.
  static base::Result<PatternMatcher> New(
      const std::vector<std::string>& patterns);

  /// The current API: `file` ('/'-delimited, not cleaned) or any of its
  /// parent directories matches, and no later '!' pattern re-includes it.
  base::Result<bool> MatchesOrParentMatches(std::string_view file) const;

  /// Same answer as MatchesOrParentMatches, reusing the result the parent
  /// directory got (`parent`, empty for a top-level path or when unknown).
  /// Stores this path's per-pattern results in `*info` for its children.
  base::Result<bool> MatchesUsingParentResults(std::string_view file,
                                               const MatchInfo& parent,
                                               MatchInfo* info) const;

  /// Only `file` itself is checked, no parents (MatchesExact).
  base::Result<bool> MatchesExact(std::string_view file) const;

  /// The deprecated PatternMatcher.Matches: besides `file`, only the one
  /// parent prefix with as many components as the pattern is checked.
  base::Result<bool> MatchesDeprecated(std::string_view file) const;

  /// True if any pattern is a '!' exclusion (Exclusions()).
  bool exclusions() const { return exclusions_; }
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  std::vector<Pattern> patterns_;
  bool exclusions_ = false;
};

/// The deprecated package-level patternmatcher.Matches: New(patterns), then
/// `file` is cleaned, "." never matches, then MatchesDeprecated.
base::Result<bool> Matches(std::string_view file,
                           const std::vector<std::string>& patterns);

/// Package-level patternmatcher.MatchesOrParentMatches: like Matches but
/// with the MatchesOrParentMatches method.
base::Result<bool> MatchesOrParentMatches(
    std::string_view file, const std::vector<std::string>& patterns);

}  // namespace strata::context

#endif  // STRATA_CONTEXT_PATTERN_MATCHER_H_
