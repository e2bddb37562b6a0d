#include "build/gc.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "build/layer_cache.h"
#include "cache/cache.h"
#include "image/local_images.h"
#include "image/oci.h"

namespace strata::build {

using base::Code;
using base::Digest;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

namespace fs = std::filesystem;

// Indexes of indexes are legal but rare; this bounds a hostile cycle.
constexpr int kMaxIndexDepth = 8;

// A cache record and the layer it names, if any.
struct CacheRef {
  store::RecordInfo info;
  std::optional<Digest> blob;
  std::optional<Digest> diff_id;
};

// One image and the blobs it reaches.
struct ImageRoot {
  std::string name;
  Digest manifest;
  std::set<Digest> blobs;
};

struct Roots {
  std::vector<ImageRoot> images;
  std::set<Digest> image_blobs;
  std::set<Digest> image_diff_ids;
  std::vector<CacheRef> cache;
};

bool IsIndex(const std::string& media_type) {
  return media_type == image::media::kOciIndex ||
         media_type == image::media::kDockerManifestList;
}

bool IsImageConfig(const std::string& media_type) {
  return media_type == image::media::kOciConfig ||
         media_type == image::media::kDockerConfig;
}

// Adds what `desc` reaches to `blobs` and its layers' diffIDs to
// `diff_ids`. Blobs absent from the store reach nothing further.
Status Reach(const store::Store& store, const image::Descriptor& desc,
             int depth, std::set<Digest>& blobs, std::set<Digest>& diff_ids) {
  blobs.insert(desc.digest);
  if (!store.HasBlob(desc.digest)) return base::OkStatus();
  STRATA_ASSIGN_OR_RETURN(std::string json, store.ReadBlob(desc.digest));
  if (IsIndex(desc.media_type) || IsIndex(image::SniffMediaType(json))) {
    if (depth >= kMaxIndexDepth) {
      return MakeError(Code::kParse, "indexes nested too deep at ",
                       desc.digest.ToString());
    }
    STRATA_ASSIGN_OR_RETURN(image::Index index, image::ParseIndex(json));
    for (const image::Descriptor& child : index.manifests) {
      STRATA_TRY(Reach(store, child, depth + 1, blobs, diff_ids));
    }
    return base::OkStatus();
  }
  STRATA_ASSIGN_OR_RETURN(image::Manifest m, image::ParseManifest(json));
  blobs.insert(m.config.digest);
  for (const image::Descriptor& layer : m.layers) blobs.insert(layer.digest);
  // Artifacts (attestations, ...) carry other configs and no diffIDs.
  if (!IsImageConfig(m.config.media_type) || !store.HasBlob(m.config.digest)) {
    return base::OkStatus();
  }
  STRATA_ASSIGN_OR_RETURN(std::string config_json,
                          store.ReadBlob(m.config.digest));
  STRATA_ASSIGN_OR_RETURN(image::ImageConfig config,
                          image::ParseImageConfig(config_json));
  diff_ids.insert(config.diff_ids.begin(), config.diff_ids.end());
  return base::OkStatus();
}

// Reads every image and cache record. `strict`: a damaged image is an
// error (prune must not guess); otherwise it counts as far as it reads.
Result<Roots> FindRoots(const store::Store& store, bool strict) {
  Roots roots;
  STRATA_ASSIGN_OR_RETURN(std::vector<store::RecordInfo> image_records,
                          store.ListRecords(image::kImageRecordKind));
  for (const store::RecordInfo& info : image_records) {
    STRATA_ASSIGN_OR_RETURN(
        std::optional<std::string> text,
        store.GetRecord(image::kImageRecordKind, info.key));
    if (!text) continue;  // untagged meanwhile
    Result<image::LocalImage> entry = image::ParseImageRecord(info.key, *text);
    if (!entry) {
      if (strict) return std::move(entry).error();
      continue;
    }
    ImageRoot root{info.key, entry->manifest.digest, {}};
    Status st =
        Reach(store, entry->manifest, 0, root.blobs, roots.image_diff_ids);
    if (!st && strict) {
      return std::move(st).error().WithContext("image " + info.key);
    }
    roots.image_blobs.insert(root.blobs.begin(), root.blobs.end());
    roots.images.push_back(std::move(root));
  }
  std::sort(roots.images.begin(), roots.images.end(),
            [](const ImageRoot& a, const ImageRoot& b) {
              return a.name < b.name;
            });
  STRATA_ASSIGN_OR_RETURN(std::vector<store::RecordInfo> cache_records,
                          store.ListRecords(cache::kRecordKind));
  for (const store::RecordInfo& info : cache_records) {
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> text,
                            store.GetRecord(cache::kRecordKind, info.key));
    if (!text) continue;
    CacheRef ref{info, std::nullopt, std::nullopt};
    // A damaged or foreign record keeps nothing (a lookup misses on it).
    Result<cache::Entry> entry = cache::EntryFromJson(*text);
    if (entry && entry->layer) {
      ref.blob = entry->layer->digest;
      ref.diff_id = entry->layer->diff_id;
    }
    roots.cache.push_back(std::move(ref));
  }
  return roots;
}

// Apparent bytes of regular files and symlinks under `path` (or of `path`
// itself), each hard-linked inode once.
int64_t TreeBytes(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) {
    return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ? st.st_size : 0;
  }
  int64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  fs::recursive_directory_iterator it(
      path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) {
      continue;
    }
    total += st.st_size;
  }
  return total;
}

// Gives the owner rwx on every directory below `path`, so an unprivileged
// process can empty directories an image made read-only.
void MakeDirsWritable(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  ::chmod(path.c_str(), (st.st_mode & 07777) | S_IRWXU);
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
    MakeDirsWritable(e.path().string());
  }
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) {
    MakeDirsWritable(path);
    ec.clear();
    fs::remove_all(path, ec);
  }
  if (ec) return MakeError(Code::kIo, path, ": ", ec.message());
  return base::OkStatus();
}

struct Sizes {
  std::map<Digest, int64_t> blobs;       // every blob present
  std::map<Digest, int64_t> layer_dirs;  // every unpacked layer present
  int64_t records = 0;                   // every record file, all kinds
  int64_t record_count = 0;
};

Result<Sizes> MeasureStore(const store::Store& store) {
  Sizes sizes;
  STRATA_ASSIGN_OR_RETURN(std::vector<Digest> blobs, store.ListBlobs());
  for (const Digest& d : blobs) {
    Result<int64_t> size = store.BlobSize(d);
    if (size) sizes.blobs[d] = *size;  // else deleted meanwhile
  }
  LayerCache paths(store);
  std::error_code ec;
  for (const fs::directory_entry& e :
       fs::directory_iterator(store.root() + "/" + UnpackedLayersArea(), ec)) {
    Result<Digest> diff_id =
        Digest::Parse("sha256:" + e.path().filename().string());
    if (!diff_id) continue;  // not ours to judge
    sizes.layer_dirs[*diff_id] = TreeBytes(paths.PathOf(*diff_id));
  }
  for (const fs::directory_entry& e :
       fs::directory_iterator(store.root() + "/records", ec)) {
    STRATA_ASSIGN_OR_RETURN(
        std::vector<store::RecordInfo> records,
        store.ListRecords(store::DecodeKey(e.path().filename().string())));
    for (const store::RecordInfo& r : records) {
      sizes.records += r.size;
      ++sizes.record_count;
    }
  }
  return sizes;
}

// Picks the cache records to drop, least recently used first.
std::set<std::string> ChooseDrops(const Roots& roots, const Sizes& sizes,
                                  const PruneOptions& options) {
  std::vector<const CacheRef*> order;
  for (const CacheRef& r : roots.cache) order.push_back(&r);
  std::sort(order.begin(), order.end(), [](const CacheRef* a, const CacheRef* b) {
    return std::pair(a->info.mtime_unix, a->info.key) <
           std::pair(b->info.mtime_unix, b->info.key);
  });
  std::set<std::string> drop;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const CacheRef* r : order) {
    if (options.all ||
        (options.max_age && r->info.mtime_unix < now - options.max_age->count())) {
      drop.insert(r->info.key);
    }
  }
  if (!options.max_bytes) return drop;

  // The store's size after collection, kept up to date as records go.
  std::map<Digest, int> blob_refs, diff_refs;
  int64_t projected = sizes.records;
  for (const CacheRef* r : order) {
    if (drop.count(r->info.key)) {
      projected -= r->info.size;
      continue;
    }
    if (r->blob) ++blob_refs[*r->blob];
    if (r->diff_id) ++diff_refs[*r->diff_id];
  }
  for (const auto& [d, size] : sizes.blobs) {
    if (roots.image_blobs.count(d) || blob_refs.count(d)) projected += size;
  }
  for (const auto& [d, size] : sizes.layer_dirs) {
    if (roots.image_diff_ids.count(d) || diff_refs.count(d)) projected += size;
  }
  for (const CacheRef* r : order) {
    if (projected <= *options.max_bytes) break;
    if (!drop.insert(r->info.key).second) continue;
    projected -= r->info.size;
    if (r->blob && --blob_refs[*r->blob] == 0 &&
        !roots.image_blobs.count(*r->blob) && sizes.blobs.count(*r->blob)) {
      projected -= sizes.blobs.at(*r->blob);
    }
    if (r->diff_id && --diff_refs[*r->diff_id] == 0 &&
        !roots.image_diff_ids.count(*r->diff_id) &&
        sizes.layer_dirs.count(*r->diff_id)) {
      projected -= sizes.layer_dirs.at(*r->diff_id);
    }
  }
  return drop;
}

}  // namespace

Result<PruneReport> Prune(const store::Store& store,
                          const PruneOptions& options) {
  STRATA_ASSIGN_OR_RETURN(store::StoreLock lock, store.Lock(true));
  STRATA_ASSIGN_OR_RETURN(Roots roots, FindRoots(store, /*strict=*/true));
  STRATA_ASSIGN_OR_RETURN(Sizes sizes, MeasureStore(store));
  std::set<std::string> drop = ChooseDrops(roots, sizes, options);

  PruneReport report;
  std::set<Digest> keep_blobs = roots.image_blobs;
  std::set<Digest> keep_diff_ids = roots.image_diff_ids;
  for (const CacheRef& r : roots.cache) {
    if (drop.count(r.info.key)) {
      STRATA_TRY(store.DeleteRecord(cache::kRecordKind, r.info.key));
      ++report.cache_records;
      report.bytes += r.info.size;
      continue;
    }
    if (r.blob) keep_blobs.insert(*r.blob);
    if (r.diff_id) keep_diff_ids.insert(*r.diff_id);
  }
  for (const auto& [digest, size] : sizes.blobs) {
    if (keep_blobs.count(digest)) continue;
    STRATA_TRY(store.DeleteBlob(digest));
    ++report.blobs;
    report.bytes += size;
  }
  LayerCache paths(store);
  for (const auto& [diff_id, size] : sizes.layer_dirs) {
    if (keep_diff_ids.count(diff_id)) continue;
    STRATA_TRY(RemoveTree(paths.PathOf(diff_id)));
    ++report.layer_dirs;
    report.bytes += size;
  }
  if (options.all) {
    for (const char* area : {"cache-mounts", "statcache"}) {
      std::error_code ec;
      std::string dir = store.root() + "/" + area;
      for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
        int64_t bytes = TreeBytes(e.path().string());
        STRATA_TRY(RemoveTree(e.path().string()));
        if (std::string(area) == "cache-mounts" &&
            e.path().extension() != ".lock") {
          ++report.cache_mounts;
        }
        report.bytes += bytes;
      }
    }
  }
  return report;
}

int64_t DiskUsageReport::TotalBytes() const {
  return image_blobs.bytes + cache_blobs.bytes + unused_blobs.bytes +
         layers.bytes + unused_layers.bytes + records.bytes + tmp.bytes +
         cache_mounts.bytes + stat_caches.bytes;
}

Result<DiskUsageReport> DiskUsage(const store::Store& store) {
  STRATA_ASSIGN_OR_RETURN(Roots roots, FindRoots(store, /*strict=*/false));
  STRATA_ASSIGN_OR_RETURN(Sizes sizes, MeasureStore(store));
  std::set<Digest> cache_blobs, cache_diff_ids;
  DiskUsageReport report;
  for (const CacheRef& r : roots.cache) {
    CacheRecordUsage use{r.info.key, r.info.mtime_unix, 0, false};
    if (r.blob) {
      cache_blobs.insert(*r.blob);
      auto it = sizes.blobs.find(*r.blob);
      if (it != sizes.blobs.end()) use.bytes = it->second;
      use.shared = roots.image_blobs.count(*r.blob) != 0;
    }
    if (r.diff_id) cache_diff_ids.insert(*r.diff_id);
    report.cache_records.push_back(std::move(use));
  }
  std::sort(report.cache_records.begin(), report.cache_records.end(),
            [](const CacheRecordUsage& a, const CacheRecordUsage& b) {
              return std::pair(b.last_used, a.key) <
                     std::pair(a.last_used, b.key);
            });
  for (const auto& [digest, size] : sizes.blobs) {
    Usage& u = roots.image_blobs.count(digest) ? report.image_blobs
               : cache_blobs.count(digest)     ? report.cache_blobs
                                               : report.unused_blobs;
    ++u.count;
    u.bytes += size;
  }
  for (const ImageRoot& img : roots.images) {
    ImageUsage use{img.name, img.manifest, 0};
    for (const Digest& d : img.blobs) {
      auto it = sizes.blobs.find(d);
      if (it != sizes.blobs.end()) use.bytes += it->second;
    }
    report.images.push_back(std::move(use));
  }
  for (const auto& [diff_id, size] : sizes.layer_dirs) {
    LayerDirUsage use{diff_id, size, LayerDirUsage::User::kNone};
    if (roots.image_diff_ids.count(diff_id)) {
      use.used_by = LayerDirUsage::User::kImage;
    } else if (cache_diff_ids.count(diff_id)) {
      use.used_by = LayerDirUsage::User::kCache;
    }
    Usage& u = use.used_by == LayerDirUsage::User::kNone ? report.unused_layers
                                                         : report.layers;
    ++u.count;
    u.bytes += size;
    report.layer_dirs.push_back(std::move(use));
  }
  report.records = {sizes.record_count, sizes.records};
  std::error_code ec;
  for (const fs::directory_entry& e :
       fs::directory_iterator(store.root() + "/tmp", ec)) {
    ++report.tmp.count;
    report.tmp.bytes += TreeBytes(e.path().string());
  }
  for (const fs::directory_entry& e :
       fs::directory_iterator(store.root() + "/cache-mounts", ec)) {
    if (e.path().extension() != ".lock") ++report.cache_mounts.count;
    report.cache_mounts.bytes += TreeBytes(e.path().string());
  }
  for (const fs::directory_entry& e :
       fs::directory_iterator(store.root() + "/statcache", ec)) {
    ++report.stat_caches.count;
    report.stat_caches.bytes += TreeBytes(e.path().string());
  }
  return report;
}

}  // namespace strata::build
