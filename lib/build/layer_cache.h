// Unpacked layers, kept in the store and shared by every build:
//
//   <store>/layers/<diffID hex>/   one layer, unpacked in overlay mode
//                                  (whiteouts as overlayfs shows them)
//   <store>/layers/chain-<chainID hex>/
//                                  a layer whose unpacked form depends on
//                                  the layers below it: one with an opaque
//                                  marker at its root, which overlayfs can
//                                  only express as whiteouts of the lower
//                                  names (OCI chainIDs name the stack)
//
// Unprivileged without subordinate ids (sandbox/id_map.h), strata cannot
// chown what it unpacks and keeps owners in xattrs (layer/owner_xattr.h):
// such directories live under <store>/layers-rootless/ instead, so a store
// never mixes the two kinds.
//
// A stage's filesystem is never flattened into a copy: readers stack these
// directories in a layer::LayeredView (and RUN stacks them as overlayfs
// lower dirs), so a base layer is unpacked once per store, not per build.
// A directory appears only complete: it is unpacked into tmp/ and renamed
// into place; a process that loses the race drops its copy.
#ifndef STRATA_BUILD_LAYER_CACHE_H_
#define STRATA_BUILD_LAYER_CACHE_H_

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "image/oci.h"
#include "store/store.h"

namespace strata::build {

/// A layer of an image or a stage: its blob and its diffID.
struct Layer {
  image::Descriptor blob;
  base::Digest diff_id;
  bool operator==(const Layer&) const = default;
};

/// The store area unpacked layers live in ("layers" or "layers-rootless").
const char* UnpackedLayersArea();

/// Finds or makes the unpacked directory of layers. Thread-safe.
class LayerCache {
 public:
  explicit LayerCache(const store::Store& store) : store_(store) {}

  /// The directories of `layers` unpacked (diffIDs checked while
  /// unpacking), bottom first, unpacking the ones no build has yet.
  base::Result<std::vector<std::string>> UnpackedAll(
      const std::vector<Layer>& layers);

  /// Takes `dir`, a RUN's overlayfs upper dir (the new layer's contents in
  /// the form unpacking gives them), as the unpacked form of `layer`, so
  /// the steps after a RUN do not unpack what it just wrote. The dir is
  /// moved away on success and left alone when the layer is unpacked
  /// already or when unpacked layers keep owners in xattrs (rootless
  /// without subordinate ids: the upper dir holds the real ones).
  void Adopt(const Layer& layer, const std::string& dir);

  /// Where a layer would be unpacked (present or not) when it does not
  /// depend on the layers below it.
  std::string PathOf(const base::Digest& diff_id) const;

  /// OCI ChainID of a layer on `parent` (empty for the bottom layer).
  static base::Digest ChainId(const base::Digest& parent,
                              const base::Digest& diff_id);

 private:
  base::Result<std::string> Unpacked(const Layer& layer,
                                     const std::vector<std::string>& lowers,
                                     const base::Digest& chain_id);
  base::Status Unpack(const Layer& layer,
                      const std::vector<std::string>& lowers,
                      const base::Digest& chain_id);
  std::string ChainPath(const base::Digest& chain_id) const;

  const store::Store& store_;
  std::mutex mu_;
  std::condition_variable done_;
  std::set<base::Digest> in_flight_;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_LAYER_CACHE_H_
