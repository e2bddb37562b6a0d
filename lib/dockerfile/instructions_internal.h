// Go standard-library behaviours the instruction model needs to match
// BuildKit byte for byte (strconv, time.ParseDuration, go-units sizes; case
// mapping lives in base/go_unicode.h). Shared by the instructions_*.cc /
// run_mount.cc / bflag.cc files; not a public interface.
#ifndef STRATA_DOCKERFILE_INSTRUCTIONS_INTERNAL_H_
#define STRATA_DOCKERFILE_INSTRUCTIONS_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::dockerfile::instr_internal {

/// Go's strconv.Quote, i.e. what "%q" and "%#v" print for a string.
std::string Quote(std::string_view s);

/// strings.EqualFold(s, "as").
bool EqualFoldAs(std::string_view s);

/// Go's strconv.ParseBool.
bool ParseBool(std::string_view s, bool* out);

/// strconv.NumError kinds.
enum class NumError { kNone, kSyntax, kRange };

/// Go's strconv.ParseUint / ParseInt for an explicit base (2..36) and bit
/// size (0 means 64).
NumError ParseUint(std::string_view s, int base, int bit_size, uint64_t* out);
NumError ParseInt(std::string_view s, int base, int bit_size, int64_t* out);

/// The text of a *strconv.NumError, e.g.
/// `strconv.ParseInt: parsing "x": invalid syntax`.
std::string NumErrorText(std::string_view func, std::string_view input,
                         NumError error);

/// Go's time.ParseDuration in nanoseconds, with its error texts
/// (`time: invalid duration "x"`, `time: missing unit in duration "1"`,
/// `time: unknown unit "d" in duration "1d"`).
base::Result<int64_t> ParseDuration(std::string_view s);

/// docker/go-units RAMInBytes (binary units, optional "b"/"ib" suffix).
/// False when the text is not a size.
bool RamInBytes(std::string_view s, int64_t* out);

/// Levenshtein distance between the runes of `a` and `b`.
int Levenshtein(std::string_view a, std::string_view b);

/// Go's strings.TrimSpace.
std::string_view TrimSpace(std::string_view s);

}  // namespace strata::dockerfile::instr_internal

#endif  // STRATA_DOCKERFILE_INSTRUCTIONS_INTERNAL_H_
