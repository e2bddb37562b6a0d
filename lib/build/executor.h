// Running a build: the stages the target needs, in dependency order (two
// at a time when independent), each step looked up in the cache before
// any heavy work, then the image written to the store.
#ifndef STRATA_BUILD_EXECUTOR_H_
#define STRATA_BUILD_EXECUTOR_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "build/built_image.h"
#include "build/options.h"
#include "build/progress.h"
#include "cache/cache.h"
#include "store/store.h"

namespace strata::build {

class RegistryAccess;

/// What a finished build made.
struct BuildResult {
  BuiltImage image;
  /// Lint findings and notes, one line each.
  std::vector<std::string> warnings;
  /// The base images, "name@digest" (for the metadata file).
  std::vector<std::string> bases;
  /// Every cache entry the build used or made (for --cache-to).
  std::vector<std::pair<base::Digest, cache::Entry>> cache_entries;
};

/// Builds `options` for its first platform, reporting to `progress`, and
/// leaves the image in `store` (the caller holds the store lock). Outputs
/// and tags are the caller's (run.h). Errors name the Dockerfile and line
/// where they can.
/// `registries` pulls bases not in the store (none: such a base is an
/// error).
base::Result<BuildResult> RunBuild(const BuildOptions& options,
                                   const store::Store& store,
                                   ProgressSink& progress,
                                   RegistryAccess* registries = nullptr);

}  // namespace strata::build

#endif  // STRATA_BUILD_EXECUTOR_H_
