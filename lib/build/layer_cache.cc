#include "build/layer_cache.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "base/file.h"
#include "base/parallel.h"
#include "base/user_namespace.h"
#include "layer/apply.h"
#include "layer/owner_xattr.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;

const char* UnpackedLayersArea() {
  return layer::Unprivileged() ? "layers-rootless" : "layers";
}

std::string LayerCache::PathOf(const base::Digest& diff_id) const {
  return base::StrCat(store_.root(), "/", UnpackedLayersArea(), "/",
                      diff_id.hex());
}

std::string LayerCache::ChainPath(const base::Digest& chain_id) const {
  return base::StrCat(store_.root(), "/", UnpackedLayersArea(), "/chain-",
                      chain_id.hex());
}

base::Digest LayerCache::ChainId(const base::Digest& parent,
                                 const base::Digest& diff_id) {
  if (parent.empty()) return diff_id;
  return base::Digest::Of(parent.ToString() + " " + diff_id.ToString());
}

base::Status LayerCache::Unpack(const Layer& layer,
                                const std::vector<std::string>& lowers,
                                const base::Digest& chain_id) {
  STRATA_TRY(store_.Area(UnpackedLayersArea()));
  std::string tmp = store_.NewTempPath();
  std::error_code ec;
  std::filesystem::create_directory(tmp, ec);
  if (ec) return MakeError(Code::kIo, tmp, ": ", ec.message());
  auto cleanup = [&] { std::filesystem::remove_all(tmp, ec); };

  Result<std::unique_ptr<store::BlobReader>> blob =
      store_.OpenBlob(layer.blob.digest);
  if (!blob) {
    cleanup();
    return std::move(blob).error();
  }
  layer::ApplyOptions options;
  options.mode = layer::ApplyMode::kOverlay;
  // Outside the host's root, trusted.* xattrs cannot be written: use
  // user.* ones, as rootless overlayfs (userxattr) reads them.
  options.overlay_user_xattrs = !base::HostRoot();
  options.expected_diff_id = layer.diff_id;
  options.lower_dirs = lowers;
  Result<layer::ApplyStats> applied = layer::ApplyLayer(**blob, tmp, options);
  if (!applied) {
    cleanup();
    return std::move(applied).error().WithContext(
        "unpacking layer " + layer.blob.digest.ToString());
  }
  std::string final_dir = applied->depends_on_lower_dirs
                              ? ChainPath(chain_id)
                              : PathOf(layer.diff_id);
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    int err = errno;
    cleanup();
    // Another process finished the same layer first: use theirs.
    if ((err == ENOTEMPTY || err == EEXIST) && base::PathExists(final_dir)) {
      return base::OkStatus();
    }
    return MakeError(Code::kIo, final_dir, ": ", base::ErrnoText(err));
  }
  return base::OkStatus();
}

void LayerCache::Adopt(const Layer& layer, const std::string& dir) {
  if (layer::Unprivileged() || !store_.Area(UnpackedLayersArea())) return;
  // A rename cannot half-happen; one that finds the layer there (another
  // step or process unpacked it first) leaves `dir` to its owner.
  (void)::rename(dir.c_str(), PathOf(layer.diff_id).c_str());
}

Result<std::string> LayerCache::Unpacked(
    const Layer& layer, const std::vector<std::string>& lowers,
    const base::Digest& chain_id) {
  auto present = [&]() -> std::string {
    if (base::PathExists(PathOf(layer.diff_id))) return PathOf(layer.diff_id);
    if (base::PathExists(ChainPath(chain_id))) return ChainPath(chain_id);
    return "";
  };
  if (std::string dir = present(); !dir.empty()) return dir;
  {
    // One unpack per layer at a time in this process; others wait for it.
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return in_flight_.count(layer.diff_id) == 0; });
    if (std::string dir = present(); !dir.empty()) return dir;
    in_flight_.insert(layer.diff_id);
  }
  base::Status st = Unpack(layer, lowers, chain_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(layer.diff_id);
  }
  done_.notify_all();
  if (!st) return std::move(st).error();
  std::string dir = present();
  if (dir.empty()) {
    return MakeError(Code::kInternal, "layer ", layer.diff_id.ToString(),
                     " vanished after unpacking");
  }
  return dir;
}

Result<std::vector<std::string>> LayerCache::UnpackedAll(
    const std::vector<Layer>& layers) {
  // Layers still in their registry come down side by side first; the
  // unpacking below then finds them in the store.
  std::vector<base::Digest> remote;
  base::Digest pre_chain;
  for (const Layer& l : layers) {
    pre_chain = ChainId(pre_chain, l.diff_id);
    if (base::PathExists(PathOf(l.diff_id)) ||
        base::PathExists(ChainPath(pre_chain)) ||
        store_.HasBlob(l.blob.digest) ||
        !store_.BlobAvailable(l.blob.digest)) {
      continue;
    }
    remote.push_back(l.blob.digest);
  }
  if (remote.size() > 1) {
    // Errors show again, with their context, when the layer is opened.
    (void)base::ParallelFor(remote.size(), 3, [&](size_t i) {
      (void)store_.OpenBlob(remote[i]);
      return base::OkStatus();
    });
  }
  std::vector<std::string> dirs;
  base::Digest chain;
  for (const Layer& l : layers) {
    chain = ChainId(chain, l.diff_id);
    STRATA_ASSIGN_OR_RETURN(std::string dir, Unpacked(l, dirs, chain));
    dirs.push_back(std::move(dir));
  }
  return dirs;
}

}  // namespace strata::build
