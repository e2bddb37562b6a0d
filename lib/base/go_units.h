// Sizes and durations as docker prints them (github.com/docker/go-units),
// shared by the CLI's tables and registry transfer progress.
#ifndef STRATA_BASE_GO_UNITS_H_
#define STRATA_BASE_GO_UNITS_H_

#include <cstdint>
#include <string>

namespace strata::base {

/// go-units' HumanSizeWithPrecision: decimal units, e.g. "1.23MB", "512B".
std::string HumanSize(int64_t bytes, int precision = 3);

/// go-units' HumanDuration, as docker prints ages ("2 hours", "About a
/// minute", "Less than a second").
std::string HumanDuration(int64_t seconds);

}  // namespace strata::base

#endif  // STRATA_BASE_GO_UNITS_H_
