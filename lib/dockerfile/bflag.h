// Instruction flags (`COPY --from=x`, `RUN --mount=...`) parsed like
// BuildKit's frontend/dockerfile/instructions/bflag.go, plus the
// "did you mean" suggestions BuildKit's util/suggest adds to errors.
//
// Each instruction declares the flags it accepts, then Parse() checks the raw
// flag words the parser collected (each still starting with "--"). Values are
// kept exactly as written; expansion happens later.
#ifndef STRATA_DOCKERFILE_BFLAG_H_
#define STRATA_DOCKERFILE_BFLAG_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::dockerfile {

/// The flags one instruction accepts and, after Parse(), their values.
class BFlags {
 public:
  enum class Type { kBool, kString, kStrings };

  /// One declared flag. `value` is "true"/"false" for bool flags, the last
  /// value for string flags; `values` collects every value of a kStrings flag.
  struct Flag {
    std::string name;
    Type type;
    std::string value;
    std::vector<std::string> values;
  };

  /// `args` are the node's raw flag words, e.g. {"--from=build", "--link"}.
  explicit BFlags(std::vector<std::string> args);
  BFlags(const BFlags&) = delete;
  BFlags& operator=(const BFlags&) = delete;

  /// Declares a bool flag with its default. The pointer stays valid for the
  /// lifetime of this object. Declaring a name twice makes Parse() fail.
  Flag* AddBool(std::string_view name, bool default_value);
  /// Declares a single-valued string flag (repeating it is an error).
  Flag* AddString(std::string_view name, std::string_view default_value);
  /// Declares a repeatable string flag (like --mount or --exclude).
  Flag* AddStrings(std::string_view name);

  /// Checks the flag words against the declarations, with bflag.go's errors:
  /// "unknown flag: --x" (plus a suggestion), "duplicate flag specified: --x",
  /// "missing a value on flag: --x", "expecting boolean value for flag --x,
  /// not: v", "arg should start with -- : x". A bare "--" ends the flags.
  base::Status Parse();

  /// True if the flag was given (after Parse()).
  bool IsUsed(std::string_view name) const;
  /// Names of the flags given, in the order first seen (BuildKit returns them
  /// from a Go map, i.e. in no particular order).
  const std::vector<std::string>& used() const { return used_; }
  /// The raw flag words.
  const std::vector<std::string>& args() const { return args_; }

 private:
  Flag* AddFlag(std::string_view name, Type type);
  Flag* Find(std::string_view name);

  std::vector<std::string> args_;
  std::vector<std::unique_ptr<Flag>> flags_;
  std::vector<std::string> used_;
  std::string setup_error_;
};

/// util/suggest.Search: the option closest to `value` by Levenshtein distance
/// (over runes, strictly below 3), or "" when none is close or one matches
/// exactly. Without `case_sensitive` the comparison is on lower-cased text
/// and the match takes the case of `value` (all lower, all upper, or lower).
/// BuildKit walks its options in Go map order, so a tie between two equally
/// close options is random there; here the first one in `options` wins.
std::string SuggestMatch(std::string_view value,
                         const std::vector<std::string>& options,
                         bool case_sensitive);

/// util/suggest.WrapError: appends " (did you mean X?)" to `message` when
/// SuggestMatch finds an X.
std::string WithSuggestion(std::string message, std::string_view value,
                           const std::vector<std::string>& options,
                           bool case_sensitive);

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_BFLAG_H_
