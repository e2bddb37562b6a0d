// The image history BuildKit writes, so `docker history` of a strata image
// reads like one built by BuildKit: the `created_by` texts of
// dockerfile2llb's dispatch functions, which use Go's fmt verbs (%q of a
// []string, %v of a map, time.Duration's String()), reproduced here.
#ifndef STRATA_BUILD_HISTORY_H_
#define STRATA_BUILD_HISTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "image/oci.h"

namespace strata::build {

/// The `comment` of every history entry strata writes.
inline constexpr char kHistoryComment[] = "strata.dockerfile.v0";

/// Go's time.Duration(ns).String(): "0s", "1.5s", "2m30s", "500ms", "1µs".
std::string GoDuration(int64_t ns);

/// Go's strconv.QuoteRune (what %q prints for an int): 3 -> '\x03'.
std::string GoQuoteRune(int64_t r);

/// `%v` of a []string: "[a b c]".
std::string GoList(const std::vector<std::string>& items);

/// BuildKit's "HEALTHCHECK %q" of its HealthcheckConfig:
/// `HEALTHCHECK &{["CMD-SHELL" "x"] "30s" "3s" "0s" "0s" '\x03'}`.
std::string HealthcheckHistory(const image::HealthConfig& h);

/// BuildKit's "EXPOSE %v" of a nat.PortSet: "EXPOSE map[80/tcp:{} ...]".
std::string ExposeHistory(std::vector<std::string> ports);

/// BuildKit's runCommandString: "|N K=V ... argv..." (the ARGs in scope
/// with their values first, when there are any).
std::string RunCommandString(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::optional<std::string>>>&
        args,
    const std::vector<std::pair<std::string, std::string>>& env);

/// A history entry as BuildKit commits it: layer steps get " # buildkit"
/// appended when `buildkit_suffix` (RUN, COPY, ADD; not WORKDIR).
image::History MakeHistory(std::string created_by, bool with_layer,
                           bool buildkit_suffix);

}  // namespace strata::build

#endif  // STRATA_BUILD_HISTORY_H_
