// LayerWriter: streams a deterministic OCI layer (a PAX tar, optionally
// compressed) into a base::Sink, hashing while it writes.
//
// Pipeline (each byte passes once; nothing is buffered whole or spilled to
// a temp file):
//
//   libarchive PAX writer -> DigestingSink (diffID, uncompressed size)
//     -> compressor (gzip/zstd/none) -> DigestingSink (digest, size)
//     -> caller's Sink
//
// Tar format (libarchive "restricted pax"): a ustar header per entry; a PAX
// extended header ("PaxHeader/<name>") only when ustar cannot hold a field:
// names over 100 bytes, link targets over 100 bytes, non-ASCII names
// (UTF-8 "path"/"linkpath" records; invalid UTF-8 goes out raw with
// "hdrcharset=BINARY"), ids over 2097151, xattrs ("SCHILY.xattr.<name>",
// as Go's archive/tar and containerd write them). uname/gname are empty,
// atime/ctime are never written, directories are named "dir/" (as
// containerd writes them), hardlinks are typeflag '1' with size 0. The
// archive ends with the two zero blocks of the end marker and no padding
// to a 10 KiB record (Go's tar writes the same).
//
// mtime: by default truncated to whole seconds, as containerd's
// ChangeWriter (BuildKit's differ) does. With subsecond_mtime the full
// "pax" format is used instead and an entry with nanoseconds gets a PAX
// "mtime=<sec>.<9 digits>" record. With source_date_epoch every mtime after
// the epoch is clamped to it (BuildKit's rewrite-timestamp), and whiteouts
// get the epoch as their mtime (BuildKit's WithWhiteoutTime).
//
// Determinism: the same options and the same Add* calls in the same order
// give byte-identical output. The writer does not sort: callers add
// entries in walk order, i.e. parents before children and, within a
// directory, names in byte order (what WriteDirectoryLayer does).
#ifndef STRATA_LAYER_WRITER_H_
#define STRATA_LAYER_WRITER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "base/stream.h"
#include "layer/compression.h"
#include "layer/entry.h"

struct archive;

namespace strata::layer {

/// How a layer is written.
struct WriterOptions {
  CompressionOptions compression;
  /// Clamp every mtime after this Unix time down to it.
  std::optional<int64_t> source_date_epoch;
  /// Keep nanosecond mtimes (PAX records) instead of truncating them.
  bool subsecond_mtime = false;
};

/// What was written.
struct LayerInfo {
  base::Digest digest;   // sha256 of the blob (the compressed bytes)
  base::Digest diff_id;  // sha256 of the uncompressed tar
  int64_t size = 0;      // blob bytes
  int64_t uncompressed_size = 0;
  std::string media_type;
};

/// Writes one layer. Not thread-safe; one writer per layer. An entry
/// refused as InvalidArgument writes nothing and the writer stays usable;
/// any other failure (I/O, a source of the wrong length) leaves the layer
/// unusable: later calls fail and the caller discards the partial blob.
class LayerWriter {
 public:
  /// Starts a layer written into `out` (not owned; must outlive the
  /// writer). Finish() closes `out`.
  static base::Result<std::unique_ptr<LayerWriter>> Create(
      base::Sink* out, const WriterOptions& options = {});
  ~LayerWriter();
  LayerWriter(const LayerWriter&) = delete;
  LayerWriter& operator=(const LayerWriter&) = delete;

  /// Adds a directory, symlink, hardlink, device, fifo or an empty regular
  /// file (size 0). A hardlink's link_target must name an earlier
  /// non-directory entry of this layer. InvalidArgument for a bad entry.
  base::Status Add(const Entry& entry);

  /// Adds a regular file whose content is read from `content` in 1 MiB
  /// chunks; `content` must yield exactly entry.size bytes.
  base::Status AddFile(const Entry& entry, base::Source& content);

  /// Adds a regular file read from `path` (not following a symlink there);
  /// the file must still be entry.size bytes long.
  base::Status AddFileFromPath(const Entry& entry, const std::string& path);

  /// Adds "<dir>/.wh.<name>" ("" dir = layer root): an empty regular file,
  /// mode 0, uid/gid 0, as containerd writes it.
  base::Status AddWhiteout(std::string_view dir, std::string_view name);

  /// Adds "<dir>/.wh..wh..opq", shaped like AddWhiteout's entries.
  base::Status AddOpaqueWhiteout(std::string_view dir);

  /// Ends the tar, flushes and closes the chain (including `out`) and
  /// returns the digests and sizes. Call once.
  base::Result<LayerInfo> Finish();

  /// Entries added so far.
  int64_t entry_count() const { return entry_count_; }

 private:
  struct ArchiveDeleter {
    void operator()(archive* a) const;
  };

  LayerWriter(base::Sink* out, const WriterOptions& options);
  base::Status Open();
  base::Status CheckUsable() const;
  base::Status WriteHeader(const Entry& entry);
  base::Status WriteData(std::span<const uint8_t> data);
  base::Status WriteContent(const Entry& entry, base::Source& content);
  base::Status AddMarker(std::string_view dir, std::string_view base_name);
  base::Error ArchiveFailure(std::string_view what);
  base::Status Fail(base::Error error);
  static ssize_t WriteCallback(archive* a, void* client, const void* buffer,
                               size_t length);

  WriterOptions options_;
  base::DigestingSink compressed_;          // -> caller's sink
  std::unique_ptr<base::Sink> compressor_;  // -> compressed_
  std::optional<base::DigestingSink> tar_;  // -> compressor_
  std::unique_ptr<archive, ArchiveDeleter> archive_;
  std::optional<base::Error> sink_error_;         // why WriteCallback failed
  std::unordered_set<std::string> link_targets_;  // non-dir paths so far
  std::vector<uint8_t> buffer_;
  int64_t entry_count_ = 0;
  bool failed_ = false;
  bool finished_ = false;
  bool discarding_ = false;  // being destroyed: swallow libarchive's flush
};

}  // namespace strata::layer

#endif  // STRATA_LAYER_WRITER_H_
