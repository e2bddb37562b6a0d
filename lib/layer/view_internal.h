// The on-disk half of LayeredView (view_lookup.cc): looking names up in the
// layer directories, merging listings, reading metadata. view.cc resolves
// paths on top of it. Internal to lib/layer.
#ifndef STRATA_LAYER_VIEW_INTERNAL_H_
#define STRATA_LAYER_VIEW_INTERNAL_H_

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/stream.h"
#include "layer/entry.h"
#include "layer/view.h"

namespace strata::layer::internal {

/// An entry of the view as found on disk.
struct ViewNode {
  int layer = -1;     // the layer providing it; -1: the root of an empty view
  std::string rel;    // canonical path below the view's root; "" is the root
  struct stat st {};  // lstat of the backing file
  /// Directories: the layers whose directory `rel` is merged into this one,
  /// topmost first (`layer` is the first).
  std::vector<int> layers;
};

/// "a/b" + "c" -> "a/b/c"; "" + "c" -> "c".
std::string JoinRel(std::string_view dir, std::string_view name);

/// Reads the layer directories of a view; holds a reference to them.
class ViewLayers {
 public:
  explicit ViewLayers(const std::vector<std::string>& dirs) : dirs_(dirs) {}

  /// Where `rel` is in layer `layer` on the host.
  std::string HostPath(int layer, std::string_view rel) const;

  /// The root directory: every layer, metadata from the topmost.
  base::Result<ViewNode> Root() const;

  /// Looks `name` up in directory `dir` (see the merge rules in view.h).
  /// nullopt: missing or whited out.
  base::Result<std::optional<ViewNode>> Lookup(const ViewNode& dir,
                                               std::string_view name) const;

  /// The visible names in directory `dir`, in byte order.
  base::Result<std::vector<std::string>> Names(const ViewNode& dir) const;

  /// The public form of `node`; Unsupported for sockets.
  base::Result<ViewStat> Stat(const ViewNode& node) const;

  /// Opens the regular file `node` beneath its layer directory, following
  /// no symlink, and checks it is the file that was looked up.
  base::Result<std::unique_ptr<base::Source>> OpenFile(
      const ViewNode& node) const;

  /// The xattrs of `node` but the overlay ones, sorted by name.
  base::Result<std::vector<Xattr>> Xattrs(const ViewNode& node) const;

 private:
  const std::vector<std::string>& dirs_;
};

}  // namespace strata::layer::internal

#endif  // STRATA_LAYER_VIEW_INTERNAL_H_
