// Dispatching a stage's commands in order: expanding each one with the
// variables in scope at that point and applying its effect on the stage's
// state (environment, ARGs, working dir, image config), as BuildKit's
// dockerfile2llb dispatch does. Running RUN/COPY is the executor's job.
#ifndef STRATA_BUILD_DISPATCH_H_
#define STRATA_BUILD_DISPATCH_H_

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "build/options.h"
#include "build/plan.h"
#include "dockerfile/instructions.h"
#include "image/oci.h"

namespace strata::build {

/// What a stage's commands see and change.
struct StageState {
  /// The image config the stage will produce (its ENV, WORKDIR, CMD, ...).
  image::ImageConfig config;
  /// The process environment of RUN and of expansion: the config's Env
  /// plus the values of ARGs declared so far (BuildKit keeps both in the
  /// LLB state's env).
  std::vector<std::pair<std::string, std::string>> env;
  /// ARGs declared in this stage, with their values if any.
  std::vector<std::pair<std::string, std::optional<std::string>>> args;
  /// Set once CMD ran in this stage (then ENTRYPOINT keeps it).
  bool cmd_set = false;
  /// BuildKit's step numbering: "[name i/total] " prefixes (no name when
  /// the Dockerfile has a single stage; no prefix when total is 0).
  std::string prefix_name;
  int cmd_index = 0;
  int cmd_total = 0;

  /// Starts a stage from its base image's config.
  static StageState FromBase(const image::ImageConfig& base);
  /// Sets or replaces `key` in `env`.
  void SetEnv(const std::string& key, const std::string& value);
};

/// One command after expansion.
struct DispatchedStep {
  dockerfile::Command command;
  /// BuildKit's progress name: "[build 2/5] RUN pip install -r req.txt"
  /// for steps that run (RUN, COPY, ADD, WORKDIR), else the bare text.
  std::string name;
  /// True for steps that run and may produce a layer.
  bool vertex = false;
  /// The history entry BuildKit commits for it (none for ONBUILD). Layer
  /// steps have empty_layer false; the executor sets it when the step
  /// changed nothing.
  std::optional<image::History> history;
};

/// Sets up BuildKit's step numbering for a stage: `total` counts the FROM
/// of an image (not scratch, not a stage) and each RUN, COPY, ADD and
/// WORKDIR; `single_stage` drops the stage name from prefixes.
void InitNumbering(StageState& state, const StagePlan& stage,
                   const dockerfile::Stage& commands, bool single_stage,
                   int extra_commands = 0);

/// The next "[name i/total] " prefix (advancing the count), "" if the stage
/// counts nothing.
std::string NextPrefix(StageState& state);

/// Expands and applies commands for one plan.
class Dispatcher {
 public:
  Dispatcher(const Plan& plan, const BuildOptions& options);

  /// Expands the `index`-th command of `stage` and applies its effect on
  /// `state`. Errors are located at the command's line.
  base::Result<DispatchedStep> Dispatch(int stage, int index,
                                        StageState& state);
  /// The same for any command (ONBUILD triggers of a base image).
  base::Result<DispatchedStep> Dispatch(dockerfile::Command command,
                                        StageState& state);

  /// --build-arg names no declared ARG consumed (docker warns about them).
  std::vector<std::string> UnusedBuildArgs() const;

 private:
  base::Status Apply(dockerfile::Command& command, StageState& state);
  base::Status ApplyArg(dockerfile::ArgCommand& arg, StageState& state);

  const Plan& plan_;
  const BuildOptions& options_;
  dockerfile::ShellLex lex_;
  mutable std::mutex mu_;  // stages dispatch in parallel
  std::set<std::string> consumed_;
};

/// The process env for RUN as "K=V" strings (BuildKit's order).
std::vector<std::string> EnvStrings(const StageState& state);

}  // namespace strata::build

#endif  // STRATA_BUILD_DISPATCH_H_
