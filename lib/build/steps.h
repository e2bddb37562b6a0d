// The steps that run: WORKDIR (a directory layer), COPY/ADD (copy.h does
// the file work) and RUN. Each computes its cache key first and does the
// heavy work only on a miss.
#ifndef STRATA_BUILD_STEPS_H_
#define STRATA_BUILD_STEPS_H_

#include <map>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "build/copy.h"
#include "build/dispatch.h"
#include "build/step_context.h"

namespace strata::build {

/// A stage's filesystem and key as steps see it.
struct StageFs {
  std::vector<Layer> layers;
  base::Digest key;  // the cache key of the last step (or of the base)
  /// The latest creation time of the stage's steps (Unix seconds, 0 if
  /// none): the image's `created` unless SOURCE_DATE_EPOCH is set.
  int64_t last_created = 0;
};

/// Where COPY --from and RUN --mount from= read: a stage's or an image's
/// layers, looked up by the executor.
using SourceLayers =
    std::function<base::Result<std::vector<Layer>>(const std::string& from)>;

/// Inputs shared by every step of one stage.
struct StepInputs {
  /// The build context as COPY sees it (shared by every step).
  std::optional<CopySource> context;
  std::optional<int64_t> source_date_epoch;
  bool no_cache = false;
  SourceLayers source_layers;
  /// --secret values RUN --mount=type=secret may read.
  std::vector<SecretSpec> secrets;
  /// --ssh agents RUN --mount=type=ssh may use.
  std::vector<SshSpec> ssh;
};

/// WORKDIR: creates the missing directories of the new working dir, owned
/// by the config's USER (BuildKit's Mkdir WithParents, WithUser).
base::Result<StepOutcome> ExecWorkdir(const StepContext& ctx,
                                      const StepInputs& in,
                                      const StageState& state,
                                      const StageFs& fs, base::Digest* key);

/// COPY and ADD.
base::Result<StepOutcome> ExecCopy(const StepContext& ctx,
                                   const StepInputs& in,
                                   const dockerfile::Command& command,
                                   const StageState& state, const StageFs& fs,
                                   base::Digest* key);

/// RUN, in lib/sandbox. The command's output goes to the progress log of
/// `progress_id`.
base::Result<StepOutcome> ExecRun(const StepContext& ctx, const StepInputs& in,
                                  const dockerfile::RunCommand& run,
                                  const StageState& state, const StageFs& fs,
                                  int progress_id, base::Digest* key);

/// RUN's history text as BuildKit writes it ("RUN |1 A=b /bin/sh -c ...").
std::string RunHistoryText(const dockerfile::RunCommand& run,
                           const StageState& state);

}  // namespace strata::build

#endif  // STRATA_BUILD_STEPS_H_
