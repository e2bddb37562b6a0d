// The content-addressed store: blobs by digest plus small named records.
//
// On-disk format, version 1 (the "store-version" file holds "1"):
//
//   <root>/store-version         "1\n"; any other value is refused, so a
//                                future layout never misreads this one.
//   <root>/lock                  flock(2) target. Builds hold it shared for
//                                their whole run; prune/rmi take it
//                                exclusive, so they wait for running builds
//                                and never delete what a build is using.
//   <root>/blobs/sha256/<hex>    immutable content whose sha256 is <hex>:
//                                layers (compressed), configs, manifests.
//   <root>/tmp/<pid>-<n>         blobs and records being written. Renamed
//                                into place when complete; files of dead
//                                processes are removed by Open().
//   <root>/records/<kind>/<key>  small metadata files (the image index, the
//                                build cache index), replaced atomically.
//                                <key> is percent-encoded to be a safe
//                                file name. mtime = last use (for prune).
//   <root>/layers/...            unpacked layers (lib/build/layer_cache.h);
//   <root>/layers-rootless/...   the same, made without chown rights.
//   <root>/statcache/<hex>       context file digests by stat, one file per
//                                context dir (lib/build/stat_cache.h).
//   <root>/records/remote-blobs/<hex>  "host/repository" of a blob left in
//                                its registry until something reads it.
//   <root>/cache-mounts/<hex>    RUN --mount=type=cache dirs, by id
//                                (lib/build/run_mounts.h).
//
// Concurrency: blob and record writes go through a temp file and rename(2),
// so two builds writing the same digest or key both leave a whole file.
// Blob reads verify the digest; a corrupt blob reads as an error, never as
// wrong bytes. Blobs are not fsynced: a torn blob after a crash fails
// verification and is fetched or rebuilt again.
#ifndef STRATA_STORE_STORE_H_
#define STRATA_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/file.h"
#include "base/result.h"
#include "base/stream.h"

namespace strata::store {

inline constexpr int kStoreVersion = 1;

/// The store root strata uses by default: $STRATA_ROOT, else
/// $XDG_CACHE_HOME/strata, else $HOME/.cache/strata.
std::string DefaultRoot();

/// Holds the store lock (shared or exclusive) until destroyed.
class StoreLock {
 public:
  explicit StoreLock(base::UniqueFd fd) : fd_(std::move(fd)) {}
  StoreLock(StoreLock&&) = default;
  StoreLock& operator=(StoreLock&&) = default;

 private:
  base::UniqueFd fd_;  // closing the fd releases the flock
};

/// Streams a new blob into the store: bytes are hashed as written and the
/// file is renamed to its digest by Commit(). Dropped without Commit(), the
/// temp file is removed.
class BlobWriter : public base::Sink {
 public:
  ~BlobWriter() override;
  base::Status Write(std::span<const uint8_t> data) override;
  using base::Sink::Write;
  /// Finishes the blob. If `expected` is given and differs, nothing is kept
  /// and the error is DigestMismatch.
  base::Result<base::Digest> Commit(
      std::optional<base::Digest> expected = std::nullopt);
  int64_t size() const { return size_; }

 private:
  friend class Store;
  BlobWriter(std::string store_blob_dir, std::string tmp_path,
             base::UniqueFd fd);
  base::Status Flush();
  base::Status WriteOut(std::span<const uint8_t> data);

  std::string blob_dir_;
  std::string tmp_path_;
  base::UniqueFd fd_;
  base::Sha256 hash_;
  std::string buffer_;
  int64_t size_ = 0;
  bool ends_in_hole_ = false;
  bool committed_ = false;
};

/// Reads a blob and checks its digest when the end is reached.
class BlobReader : public base::Source {
 public:
  base::Result<size_t> Read(std::span<uint8_t> out) override;
  int64_t size() const { return size_; }

 private:
  friend class Store;
  BlobReader(base::FdSource source, base::Digest want, int64_t size)
      : source_(std::move(source)), want_(std::move(want)), size_(size) {}

  base::FdSource source_;
  base::Digest want_;
  base::Sha256 hash_;
  int64_t size_;
  bool checked_ = false;
};

/// The record kind naming where a blob not stored here lives: key the
/// digest's hex, value "host/repository" (lib/build/registry_access.h).
inline constexpr char kRemoteBlobKind[] = "remote-blobs";

/// A record's key and last-use time, as listed.
struct RecordInfo {
  std::string key;
  int64_t mtime_unix = 0;
  int64_t size = 0;
};

/// A store root opened for use. Thread-safe: methods touch only the file
/// system, whose renames are atomic.
class Store {
 public:
  /// Opens (creating if needed) the store at `root`, checks its version and
  /// removes temp files left by dead processes.
  static base::Result<std::unique_ptr<Store>> Open(const std::string& root);

  const std::string& root() const { return root_; }

  /// Takes the store lock, waiting for it. Builds take it shared.
  base::Result<StoreLock> Lock(bool exclusive) const;

  // Blobs.
  std::string BlobPath(const base::Digest& digest) const;
  bool HasBlob(const base::Digest& digest) const;
  /// Size in bytes, NotFound if absent.
  base::Result<int64_t> BlobSize(const base::Digest& digest) const;
  /// Starts writing a new blob.
  base::Result<std::unique_ptr<BlobWriter>> NewBlobWriter() const;
  /// Stores a small blob held in memory (configs, manifests).
  base::Result<base::Digest> PutBlob(std::string_view data) const;
  /// Reads a small blob whole, verifying it.
  base::Result<std::string> ReadBlob(const base::Digest& digest) const;
  /// Opens a blob for streaming; the digest is checked at the end. A blob
  /// that is not here is asked of the fetcher, if one is set.
  base::Result<std::unique_ptr<BlobReader>> OpenBlob(
      const base::Digest& digest) const;

  /// Whether the blob is here, or recorded as left in a registry (record
  /// kind kRemoteBlobKind) so that OpenBlob can fetch it.
  bool BlobAvailable(const base::Digest& digest) const;

  /// Gets a blob that is not in the store yet into it (a base image's
  /// layer left in its registry until something reads it). Returns false
  /// when it does not know the blob.
  using BlobFetcher = std::function<base::Result<bool>(const base::Digest&)>;
  void SetBlobFetcher(BlobFetcher fetcher);
  /// Lists every stored blob.
  base::Result<std::vector<base::Digest>> ListBlobs() const;
  /// Removes a blob (prune). Missing is not an error.
  base::Status DeleteBlob(const base::Digest& digest) const;

  // Records: small named metadata in a namespace `kind` ("images", ...).
  base::Status PutRecord(std::string_view kind, std::string_view key,
                         std::string_view data) const;
  /// The record, or nullopt if there is none. Refreshes its last-use time
  /// when `touch` is set.
  base::Result<std::optional<std::string>> GetRecord(std::string_view kind,
                                                     std::string_view key,
                                                     bool touch = false) const;
  base::Result<std::vector<RecordInfo>> ListRecords(
      std::string_view kind) const;
  base::Status DeleteRecord(std::string_view kind, std::string_view key) const;

  /// A fresh path under tmp/ for callers staging whole directories.
  std::string NewTempPath() const;
  /// <root>/<sub>, created if missing (for other modules' areas).
  base::Result<std::string> Area(std::string_view sub) const;

 private:
  explicit Store(std::string root) : root_(std::move(root)) {}
  std::string RecordPath(std::string_view kind, std::string_view key) const;

  std::string root_;
  mutable std::mutex fetcher_mu_;
  BlobFetcher fetcher_;
};

/// Percent-encodes everything but [A-Za-z0-9_-] so any key is a file name.
std::string EncodeKey(std::string_view key);
/// The inverse of EncodeKey.
std::string DecodeKey(std::string_view name);

}  // namespace strata::store

#endif  // STRATA_STORE_STORE_H_
