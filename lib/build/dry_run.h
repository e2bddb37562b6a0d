// `strata build --dry-run`: everything a build does before running a step.
#ifndef STRATA_BUILD_DRY_RUN_H_
#define STRATA_BUILD_DRY_RUN_H_

#include <string>

#include "base/result.h"
#include "build/options.h"

namespace strata::build {

/// Reads the Dockerfile and the context (after .dockerignore), parses,
/// expands and validates every instruction, resolves the stages the target
/// needs, and returns the plan as text: stages in order, which are needed,
/// and each step after expansion. Errors name the Dockerfile and line.
base::Result<std::string> DryRun(const BuildOptions& options);

}  // namespace strata::build

#endif  // STRATA_BUILD_DRY_RUN_H_
