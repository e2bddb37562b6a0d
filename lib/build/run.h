// `strata build` end to end: build, write the outputs, tag, and report
// (--iidfile, --metadata-file), all under the store's shared lock so a
// concurrent prune cannot remove what this build made before it is named.
#ifndef STRATA_BUILD_RUN_H_
#define STRATA_BUILD_RUN_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "build/options.h"
#include "build/progress.h"

namespace strata::build {

/// What the user sees of a finished build.
struct BuildSummary {
  std::string image_id;         // the config digest, as docker shows it
  std::string manifest_digest;  // the image's digest
  std::vector<std::string> warnings;
};

/// Builds, exports and tags.
base::Result<BuildSummary> BuildAndExport(const BuildOptions& options,
                                          ProgressSink& progress);

}  // namespace strata::build

#endif  // STRATA_BUILD_RUN_H_
