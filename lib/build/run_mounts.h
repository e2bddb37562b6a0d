// RUN --mount: what each mount adds to the step's cache key, and the
// sandbox mounts that serve it.
//
//   type=bind   from the context (after .dockerignore; the selected files
//               are copied out with the COPY engine, so nothing outside the
//               context or ignored is ever visible) or from a stage/image
//               (its unpacked layers as an overlay). Read-only unless rw;
//               writes are always discarded. The key holds the content
//               digest of what is bound.
//   type=cache  a directory kept in the store under cache-mounts/, by id
//               (default: the target), created with uid/gid/mode, or
//               with from= as a copy of that stage's source dir (another
//               cache than one without from=, and the base is keyed);
//               sharing=shared (default) binds it as is, locked holds a
//               lock for the run, private uses a fresh dir when another
//               build holds it. Its content is never part of the key.
//   type=tmpfs  a fresh tmpfs (size=).
//   type=secret from --secret (file or environment variable), bound
//               read-only at the target (default /run/secrets/<id>) or put
//               in an environment variable (env=); never in the key, a
//               layer, or the history. A missing secret is skipped unless
//               required=true.
//   type=ssh    the --ssh agent's socket (default id "default") bound at
//               the target (default /run/buildkit/ssh_agent.N), with
//               SSH_AUTH_SOCK set; skipped when absent unless required.
#ifndef STRATA_BUILD_RUN_MOUNTS_H_
#define STRATA_BUILD_RUN_MOUNTS_H_

#include <string>
#include <vector>

#include "base/file.h"
#include "base/result.h"
#include "build/options.h"
#include "build/steps.h"
#include "sandbox/sandbox.h"

namespace strata::build {

/// The mounts of one RUN step. Plan computes the key part; Prepare makes
/// the directories and files (on a cache miss only).
class RunMounts {
 public:
  RunMounts(const StepContext& ctx, const StepInputs& in,
            const std::vector<SecretSpec>& secrets);
  ~RunMounts();
  RunMounts(const RunMounts&) = delete;
  RunMounts& operator=(const RunMounts&) = delete;

  /// Checks every mount and returns the text the cache key includes.
  base::Result<std::string> Plan(const std::vector<dockerfile::Mount>& mounts,
                                 const std::string& workdir);

  /// Makes what the planned mounts need under `scratch` and fills the
  /// sandbox's mounts and extra environment. Locks it takes are held until
  /// this object dies.
  base::Status Prepare(const std::string& scratch,
                       std::vector<sandbox::MountSpec>* out,
                       std::vector<std::string>* env);

 private:
  struct Planned;
  /// Fills `fresh` (not yet there) with the cache's base: the from= stage's
  /// source dir, copied as COPY --from would.
  base::Status SeedCache(const Planned& p, const std::string& scratch,
                         const std::string& fresh);
  const StepContext& ctx_;
  const StepInputs& in_;
  const std::vector<SecretSpec>& secrets_;
  std::vector<Planned> planned_;
  std::vector<base::UniqueFd> locks_;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_RUN_MOUNTS_H_
