// Planning a build: read the Dockerfile, resolve the global ARGs and each
// stage's FROM, find which stages the target needs (BuildKit's
// dockerfile2llb up to dispatch). Nothing is run or fetched here.
#ifndef STRATA_BUILD_PLAN_H_
#define STRATA_BUILD_PLAN_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "build/options.h"
#include "dockerfile/instructions.h"
#include "dockerfile/instructions_deps.h"
#include "dockerfile/parser.h"
#include "dockerfile/shell_lex.h"
#include "image/platform.h"

namespace strata::build {

/// The Dockerfile as read and parsed.
struct LoadedDockerfile {
  std::string path;          // where it was read from ("-" for stdin)
  std::string display_name;  // used in error locations ("Dockerfile")
  dockerfile::ParseResult ast;
  dockerfile::ParsedInstructions parsed;
};

/// Reads (`-f`, stdin or CONTEXT/Dockerfile), parses and types the
/// Dockerfile. Errors name the file and line.
base::Result<LoadedDockerfile> LoadDockerfile(const BuildOptions& options);

/// One stage as planned.
struct StagePlan {
  int index = 0;
  std::string name;          // AS name (lower-cased), "" if unnamed
  std::string display_name;  // name or "stage-N"
  std::string base;          // FROM after expansion
  int base_stage = -1;       // the earlier stage FROM names, or -1
  bool scratch = false;      // FROM scratch
  image::Platform platform;  // the platform this stage builds for
  bool needed = false;       // the target needs it
};

/// The build-time variables the platform gives every build (BuildKit's
/// automatic platform ARGs) for `build` and `target`.
std::vector<std::pair<std::string, std::string>> PlatformArgs(
    const image::Platform& build, const image::Platform& target);

/// Predefined ARGs usable without an ARG line (proxies), as docker has.
bool IsPredefinedArg(std::string_view name);

/// What MakePlan decided.
struct Plan {
  LoadedDockerfile dockerfile;
  dockerfile::StageGraph graph;
  /// The global scope: platform ARGs and the resolved meta ARGs.
  dockerfile::EnvList global_args;
  std::vector<StagePlan> stages;
  int target = 0;
  image::Platform build_platform;
  image::Platform target_platform;
  /// Lint findings and notes, one line each ("Dockerfile:3: ...").
  std::vector<std::string> warnings;
};

/// Plans a build of `options` and its loaded `dockerfile` for
/// `target_platform`.
base::Result<Plan> MakePlan(const BuildOptions& options,
                            LoadedDockerfile dockerfile,
                            const image::Platform& target_platform);

}  // namespace strata::build

#endif  // STRATA_BUILD_PLAN_H_
