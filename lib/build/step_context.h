// What the executor's step handlers share: the store, the cache, unpacked
// layers and how new layers are written.
#ifndef STRATA_BUILD_STEP_CONTEXT_H_
#define STRATA_BUILD_STEP_CONTEXT_H_

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "build/layer_cache.h"
#include "build/progress.h"
#include "cache/cache.h"
#include "layer/view.h"
#include "layer/writer.h"
#include "store/store.h"

namespace strata::build {

/// Shared by every step of a build. All members are thread-safe.
/// Every cache entry a build used or made, for --cache-to. Thread-safe.
class CacheJournal {
 public:
  void Add(const base::Digest& key, const cache::Entry& entry) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.emplace_back(key, entry);
  }
  std::vector<std::pair<base::Digest, cache::Entry>> Entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<base::Digest, cache::Entry>> entries_;
};

struct StepContext {
  const store::Store& store;
  cache::Index cache;
  LayerCache& layers;
  ProgressSink& progress;
  layer::WriterOptions writer;
  /// How layers are written (plain tar, SOURCE_DATE_EPOCH), part of every
  /// layer step's cache key.
  std::string layer_format_key;
  CacheJournal* journal = nullptr;
};

/// What a step left: a new layer, or none (nothing changed).
struct StepOutcome {
  std::optional<Layer> layer;
  bool cached = false;
  /// When the step first ran (Unix seconds), from the cache on a hit.
  int64_t created = 0;
};

/// Writes a new layer into the store with `fill`; a layer `fill` added no
/// entry to is dropped (nullopt), as BuildKit drops empty diffs.
base::Result<std::optional<Layer>> WriteNewLayer(
    const StepContext& ctx,
    const std::function<base::Status(layer::LayerWriter&)>& fill);

/// Looks `key` up unless `no_cache`; on a miss runs `make` and records its
/// result under `key`.
base::Result<StepOutcome> CachedStep(
    const StepContext& ctx, const base::Digest& key, bool no_cache,
    const std::function<base::Result<std::optional<Layer>>()>& make);

/// A read view of `layers` (unpacking any not unpacked yet).
base::Result<layer::LayeredView> ViewOf(const StepContext& ctx,
                                        const std::vector<Layer>& layers);

/// Reads a small file from a view, nullopt if it does not exist.
base::Result<std::optional<std::string>> ReadViewFile(
    const layer::LayeredView& view, const std::string& path);

}  // namespace strata::build

#endif  // STRATA_BUILD_STEP_CONTEXT_H_
