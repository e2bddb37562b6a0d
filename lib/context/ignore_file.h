// Reading .dockerignore files: moby/patternmatcher's ignorefile.ReadAll and
// BuildKit's choice of which ignore file a build uses.
//
// File format (ignorefile.ReadAll), line by line ('\n', one trailing '\r'
// dropped; a line of 64 KiB or more is an error, as with Go's bufio.Scanner):
//   - a UTF-8 BOM is removed from the first line only;
//   - a line whose first byte is '#' is a comment;
//   - the line is trimmed (Unicode white space) and dropped if empty;
//   - a leading '!' is split off and the rest trimmed again;
//   - the rest goes through filepath.Clean and loses one leading '/'
//     (unless it is just "/"); the '!' is put back in front;
//   - a lone "!" is kept (building a matcher from it fails).
#ifndef STRATA_CONTEXT_IGNORE_FILE_H_
#define STRATA_CONTEXT_IGNORE_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::context {

/// The context's own ignore file name.
inline constexpr std::string_view kDockerignoreName = ".dockerignore";

/// ignorefile.ReadAll: the patterns in an ignore file's `content`, in order.
/// Fails (kParse, "bufio.Scanner: token too long") on a line of 65536 bytes
/// or more.
base::Result<std::vector<std::string>> ReadIgnoreFile(std::string_view content);

/// The ignore patterns chosen for a build.
struct BuildIgnore {
  /// "<Dockerfile name>.dockerignore", ".dockerignore", or empty when
  /// neither file exists.
  std::string name;
  /// The host path that was read (empty when none).
  std::string path;
  /// The patterns, as ReadIgnoreFile returns them.
  std::vector<std::string> patterns;
};

/// BuildKit's rule: "<Dockerfile name>.dockerignore" next to the Dockerfile
/// wins when it exists (even if empty); otherwise
/// `<context_dir>/.dockerignore`; otherwise no patterns. `dockerfile_path` may
/// be empty (no Dockerfile specific file). Each file is looked up with its
/// symlinks resolved inside its own directory (the Dockerfile's, or the
/// context), as BuildKit reads them from a snapshot of that directory; a
/// directory or other non-regular file counts as absent. Fails (kIo) when a
/// file exists but cannot be read, and (kParse, "failed parsing <name>: ...")
/// when it cannot be parsed.
base::Result<BuildIgnore> LoadBuildIgnore(const std::string& context_dir,
                                          const std::string& dockerfile_path);

}  // namespace strata::context

#endif  // STRATA_CONTEXT_IGNORE_FILE_H_
