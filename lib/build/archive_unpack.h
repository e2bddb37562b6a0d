// Reading the tar archives ADD extracts: BuildKit's isArchivePath (a
// regular file that decompresses as gzip, bzip2, xz, zstd or plain data and
// starts with a valid tar header, whatever its name) and a streaming member
// reader. Extraction policy (where members land, ownership) is copy.h's.
#ifndef STRATA_BUILD_ARCHIVE_UNPACK_H_
#define STRATA_BUILD_ARCHIVE_UNPACK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/stream.h"
#include "layer/entry.h"

namespace strata::build {

/// One member of a tar archive, as its header says.
struct TarMember {
  std::string name;  // as written (not cleaned)
  /// kRegular, kDirectory, kSymlink, kHardlink, kCharDevice, kBlockDevice
  /// or kFifo.
  layer::EntryType type = layer::EntryType::kRegular;
  uint32_t mode = 0;  // 07777
  int64_t uid = 0;
  int64_t gid = 0;
  layer::Timestamp mtime;
  int64_t size = 0;         // regular files
  std::string link_target;  // symlink target, or hardlink target name
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  std::vector<layer::Xattr> xattrs;  // sorted by name
};

/// Whether `input` (read from its start; at most a few KiB are consumed)
/// is a possibly compressed tar: it decompresses and its first header is a
/// valid tar header. Any failure means "no", as in BuildKit.
bool IsTarArchive(base::Source& input);

/// Called for each member in archive order; `content` yields exactly
/// member.size bytes for a regular file (null otherwise) and is only valid
/// during the call (unread bytes are skipped).
using TarMemberFn =
    std::function<base::Status(const TarMember& member, base::Source* content)>;

/// Decompresses `input` and reads every member. A corrupt archive is a
/// kParse error naming the problem; errors of `input` and `fn` pass through.
base::Status ReadTar(base::Source& input, const TarMemberFn& fn);

}  // namespace strata::build

#endif  // STRATA_BUILD_ARCHIVE_UNPACK_H_
