// Pruning the build cache and collecting the store's garbage, and the
// disk usage report behind `strata du`.
//
// What the store keeps (the roots):
//   - every "images" record (image/local_images.h): its root blob and what
//     it reaches: an index's manifests (those present in the store), a
//     manifest's config and layers;
//   - every "cache" record (cache/cache.h) that prune leaves: the layer
//     blob it names.
// An unpacked layer directory <root>/layers/<diffID hex> (layer_cache.h)
// is kept while its diffID is the diffID of a kept layer: one listed in an
// image's config (rootfs.diff_ids) or named by a remaining cache record.
// Every other blob and layer directory is garbage: compressed forms of
// layers (build/distributable.h) too, made again by the next push that
// needs them. Records of other kinds are neither roots nor pruned; entries
// of layers/ whose name is not a digest are left alone.
//
// Sizes are apparent sizes (st_size) of regular files and symlinks; a file
// with several hard links counts once per directory tree; directories
// count 0. The store size that max_bytes bounds is blobs + unpacked layers
// + records (tmp/ is not counted), as they would be after the collection;
// image content counts too, but prune never removes it, so a store whose
// images alone exceed max_bytes loses its whole build cache.
#ifndef STRATA_BUILD_GC_H_
#define STRATA_BUILD_GC_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "store/store.h"

namespace strata::build {

/// Which build-cache records Prune drops before collecting garbage.
struct PruneOptions {
  /// Drop records not used for longer than this (last use = record mtime).
  std::optional<std::chrono::seconds> max_age = std::nullopt;
  /// Then drop records, least recently used first, until the store's size
  /// after collection is at most this many bytes.
  std::optional<int64_t> max_bytes = std::nullopt;
  /// Drop every cache record, and the RUN cache mounts and the context
  /// stat caches too (as `docker builder prune --all` drops cache mounts).
  bool all = false;
};

/// What Prune removed.
struct PruneReport {
  int64_t cache_records = 0;
  int64_t blobs = 0;
  int64_t layer_dirs = 0;
  int64_t cache_mounts = 0;  // RUN --mount=type=cache dirs (--all only)
  /// Bytes freed by all of the above (see the header for how sizes count).
  int64_t bytes = 0;
};

/// Drops cache records as `options` say, then deletes every blob and
/// unpacked layer directory no image or remaining cache record keeps.
/// Takes the store lock exclusively, so it waits for running builds (which
/// hold it shared); never call it while this process holds the lock. An
/// image whose manifest or config cannot be read or parsed stops it before
/// anything is deleted (an error naming the image).
base::Result<PruneReport> Prune(const store::Store& store,
                                const PruneOptions& options);

/// A count of things and the bytes they take.
struct Usage {
  int64_t count = 0;
  int64_t bytes = 0;
};

/// One tagged image, for the verbose report.
struct ImageUsage {
  std::string name;       // the record key, "docker.io/library/app:v1"
  base::Digest manifest;  // its root blob
  int64_t bytes = 0;      // blobs it reaches that are present (shared ones
                          // count for each image)
};

/// One build-cache record, for the verbose report.
struct CacheRecordUsage {
  std::string key;          // the record key (step key hex)
  int64_t last_used = 0;    // Unix time
  int64_t bytes = 0;        // its layer blob, if present
  bool shared = false;      // the blob is also an image's
};

/// One unpacked layer directory, for the verbose report.
struct LayerDirUsage {
  base::Digest diff_id;
  int64_t bytes = 0;
  enum class User { kImage, kCache, kNone } used_by = User::kNone;
};

/// Where a store's bytes are.
struct DiskUsageReport {
  Usage image_blobs;    // blobs an image reaches
  Usage cache_blobs;    // blobs only cache records reach
  Usage unused_blobs;   // blobs nothing reaches (the next prune's)
  Usage layers;         // unpacked layers an image or cache record uses
  Usage unused_layers;  // unpacked layers nothing uses
  Usage records;        // record files of every kind
  Usage tmp;            // entries of tmp/ (builds in progress, or debris)
  Usage cache_mounts;   // RUN --mount=type=cache dirs and their locks
  Usage stat_caches;    // remembered context file digests
  std::vector<ImageUsage> images;               // sorted by name
  std::vector<CacheRecordUsage> cache_records;  // most recently used first
  std::vector<LayerDirUsage> layer_dirs;        // sorted by diffID

  int64_t TotalBytes() const;
};

/// Measures the store without locking it (numbers may be a moment stale
/// while a build runs). Damaged images are counted as far as they read.
base::Result<DiskUsageReport> DiskUsage(const store::Store& store);

}  // namespace strata::build

#endif  // STRATA_BUILD_GC_H_
