// EXPOSE port specs as BuildKit checks them when it dispatches EXPOSE
// (dockerfile2llb/convert_expose.go): [ip:][host-port:]port[-end][/proto].
#ifndef STRATA_DOCKERFILE_INSTRUCTIONS_EXPOSE_H_
#define STRATA_DOCKERFILE_INSTRUCTIONS_EXPOSE_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "dockerfile/instructions.h"

namespace strata::dockerfile {

/// Checks expanded EXPOSE entries and turns them into "port/proto" strings
/// (a range gives one per port), as BuildKit's dispatchExpose does. Errors
/// look like `invalid port: "x/foo": invalid proto: foo`. Lint warnings
/// (ExposeProtoCasing, ExposeInvalidFormat) go to `warnings` when given,
/// located at `location`.
base::Result<std::vector<std::string>> ParseExposedPorts(
    const std::vector<std::string>& ports, const CommandBase& location,
    std::vector<LintWarning>* warnings = nullptr);

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_INSTRUCTIONS_EXPOSE_H_
