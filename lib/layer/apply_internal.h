// The applier's per-layer state, shared by apply.cc (the tar loop and the
// whiteouts) and apply_entry.cc (creating entries and their metadata).
// Internal to lib/layer.
#ifndef STRATA_LAYER_APPLY_INTERNAL_H_
#define STRATA_LAYER_APPLY_INTERNAL_H_

#include <sys/stat.h>

#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/file.h"
#include "base/result.h"
#include "layer/apply.h"
#include "layer/archive_util.h"

namespace strata::layer::internal {

/// A uid/gid pair.
struct Owner {
  uid_t uid;
  gid_t gid;
};

/// The uid/gid a tar entry records.
Owner OwnerOf(archive_entry* e);

class Applier {
 public:
  Applier(int root_fd, const ApplyOptions& options, ApplyStats* stats);

  /// Applies one tar entry; `a` is positioned at its data.
  base::Status Apply(archive* a, archive_entry* e);
  /// Completes the layer after its last entry: in overlay mode the
  /// whiteouts an opaque marker at the root stands for, then the modes and
  /// times of the directories this layer wrote.
  base::Status Finish();

 private:
  struct DirFixup {
    std::string path;
    mode_t mode;
    timespec times[2];
  };

  // apply.cc
  base::Status Whiteout(std::string_view parent, std::string_view name,
                        archive_entry* e);
  base::Status OverlayWhiteout(int parent_fd, const std::string& name,
                               Owner owner);
  base::Status Opaque(std::string_view dir, archive_entry* e);
  base::Status MarkOpaque(int dir_fd, std::string_view dir);
  base::Status HideLowerBelow(const std::string& path);
  base::Status HideLowerAtRoot();
  base::Status ReviveWhiteouts(std::string_view path);
  base::Status RemoveLower(int dir_fd, const std::string& dir);
  base::Status FinishDirectories();
  bool WroteAtOrBelow(const std::string& path) const;
  bool UnderWhiteout(std::string_view path) const;
  std::string OverlayXattr(std::string_view what) const;

  // apply_entry.cc
  base::Status Create(const std::string& path, int parent_fd,
                      const std::string& name, archive* a, archive_entry* e);
  base::Status CreateDirectory(const std::string& path, int parent_fd,
                               const std::string& name, bool exists,
                               archive_entry* e);
  base::Status CreateSymlink(const std::string& path, int parent_fd,
                             const std::string& name, archive_entry* e);
  base::Status CreateNode(const std::string& path, int parent_fd,
                          const std::string& name, mode_t type,
                          archive_entry* e);
  base::Status CreateHardlink(const std::string& path, int parent_fd,
                              const std::string& name, archive_entry* e);
  base::Status WriteRegular(const std::string& path, int parent_fd,
                            const std::string& name, archive* a,
                            archive_entry* e);
  base::Status Chown(int parent_fd, const std::string& name, int fd,
                     archive_entry* e);
  base::Status ChownTo(int parent_fd, const std::string& name, int fd,
                       Owner owner);
  base::Status SetXattrs(int parent_fd, const std::string& name, int fd,
                         mode_t type, archive_entry* e);
  base::Status Metadata(int parent_fd, const std::string& name, mode_t type,
                        archive_entry* e);

  void Warn(std::string message);

  int root_fd_;
  ApplyOptions options_;
  ApplyStats* stats_;
  bool chown_;
  // Clean paths this layer wrote; ordered, so that what it wrote below a
  // path is one range.
  std::set<std::string> unpacked_;
  // Overlay mode: paths where this layer wrote a whiteout, not since
  // replaced by one of its entries.
  std::unordered_set<std::string> whiteouts_;
  // Overlay mode: the layer has an opaque marker at its root, owned so.
  bool root_opaque_ = false;
  Owner root_opaque_owner_{};
  std::vector<DirFixup> dirs_;
};

/// Entry times as utimensat() wants them: atime = max(atime, mtime), as
/// containerd sets them.
void EntryTimes(archive_entry* e, timespec out[2]);

}  // namespace strata::layer::internal

#endif  // STRATA_LAYER_APPLY_INTERNAL_H_
