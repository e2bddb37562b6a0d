// Which stages a stage needs, and the checks BuildKit makes on that graph
// before building (dockerfile2llb/convert.go: toCommand, detectRunMount,
// validateCircularDependency, and the "needs to be defined before" checks of
// dispatch).
//
// BuildKit's behaviour, reproduced here:
//  - `FROM x` builds on the latest earlier stage named exactly x (stage names
//    are lower-cased, x is not), else x is an image.
//  - `COPY --from=x` names a stage (case-insensitively, the last stage of
//    that name, earlier or later), a stage index, or else an image. A
//    variable in x is an error; so is an index out of range.
//  - `RUN --mount=from=x` names a stage or an image the same way; a mount
//    without from= counts as "scratch".
//  - A cycle (including a stage copying from itself) is an error.
//  - Copying or mounting from a later stage is an error only if the stage
//    doing it is built: CheckStageOrder() with the dispatched stages.
#ifndef STRATA_DOCKERFILE_INSTRUCTIONS_DEPS_H_
#define STRATA_DOCKERFILE_INSTRUCTIONS_DEPS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "dockerfile/instructions.h"

namespace strata::dockerfile {

/// One entry of BuildKit's dispatch-state list: a stage, or an image named
/// by a COPY --from / RUN --mount (one entry per reference, in order).
struct StageGraphNode {
  int stage = -1;     // index into ParsedInstructions::stages, or -1
  std::string image;  // the image name when stage == -1
  bool operator==(const StageGraphNode&) const = default;
};

/// The stages, the images they read from, and the edges between them.
/// Node i < stages.size() is stage i; image nodes follow.
struct StageGraph {
  std::vector<StageGraphNode> nodes;
  /// Per stage: the node of the earlier stage its FROM names, or -1.
  std::vector<int> base;
  /// Per stage, per command: the nodes the command reads from (COPY
  /// --from: one; RUN: one per --mount; others: none).
  std::vector<std::vector<std::vector<int>>> sources;
};

/// Resolves every stage reference as BuildKit does and rejects cycles
/// ("circular dependency detected on stage: x"), variables in COPY --from
/// ("variable expansion is not supported for --from, define a new stage
/// with FROM using ARG from global scope as a workaround") and bad indexes
/// ("invalid stage index 7"). Stage base names must already be expanded
/// (Stage::ExpandBase). `escape_token` is the Dockerfile's escape character.
/// Errors are located at the command concerned (BuildKit itself gives the
/// --from errors no location).
base::Result<StageGraph> BuildStageGraph(
    const ParsedInstructions& dockerfile, char escape_token,
    const InstructionOptions& options = {});

/// The stages `target` needs, itself included: through FROM and through
/// every command source (BuildKit's allReachableStages). One flag per stage.
std::vector<bool> ReachableStages(const StageGraph& graph, int target);

/// BuildKit builds the `dispatched` stages in file order; a command of one
/// of them that reads from a stage not yet built fails with
/// `cannot copy from stage "b", it needs to be defined before current stage
/// "a"` or `cannot mount from stage "b" to "/t", stage needs to be defined
/// before current command` (mount values shown unexpanded). Pass
/// ReachableStages() of the target, or all true to check every stage.
base::Status CheckStageOrder(const ParsedInstructions& dockerfile,
                             const StageGraph& graph,
                             const std::vector<bool>& dispatched,
                             const InstructionOptions& options = {});

/// BuildKit's name for stage `index` in messages: its name, or "stage-N".
std::string StageDisplayName(const ParsedInstructions& dockerfile, int index);

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_INSTRUCTIONS_DEPS_H_
