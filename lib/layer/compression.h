// Layer compression: compressing Sinks (gzip, zstd) and a decompressing
// Source that recognises gzip, zstd, bzip2, xz and plain data by magic.
//
// Output formats, chosen for reproducible bytes:
//   gzip  RFC 1952 single member. Header: no name, no comment, no extra
//         field, MTIME 0, OS byte 255 ("unknown", as Go's compress/gzip
//         writes it), XFL as zlib sets it from the level. The input is cut
//         into 1 MiB blocks, each compressed independently by libdeflate
//         (or stored, when samples show it will not shrink) and joined
//         into one deflate stream by empty stored blocks (what a sync
//         flush writes), so `workers` threads can share the work;
//         the bytes depend on the input, the level and libdeflate's
//         version only, never on the number of workers.
//   zstd  One RFC 8878 frame with a content checksum (as klauspost/zstd,
//         used by BuildKit, and the zstd CLI write it), no content size.
//         With workers >= 1 zstd compresses in parallel jobs; the bytes then
//         depend on the level and on whether workers is 0 or not, never on
//         timing, so a given option set is deterministic.
#ifndef STRATA_LAYER_COMPRESSION_H_
#define STRATA_LAYER_COMPRESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/stream.h"

namespace strata::layer {

/// A stream compression. Layers are written as kNone, kGzip or kZstd;
/// kBzip2 and kXz are only recognised when reading (ADD of local archives).
enum class Compression { kNone, kGzip, kZstd, kBzip2, kXz };

/// "none", "gzip", "zstd", "bzip2" or "xz".
std::string_view CompressionName(Compression compression);

inline constexpr std::string_view kMediaTypeLayerTar =
    "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kMediaTypeLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";

/// The OCI layer media type for `compression`; Unsupported for bzip2/xz.
base::Result<std::string> LayerMediaType(Compression compression);

/// The compression an OCI or Docker (rootfs.diff.tar[.gzip|.zstd]) layer
/// media type names, including the OCI nondistributable variants.
/// Unsupported for anything else.
base::Result<Compression> CompressionFromMediaType(std::string_view media_type);

/// The compression whose magic number starts `head` (at least 6 bytes are
/// needed to tell them all apart); kNone when none matches.
Compression DetectCompression(std::span<const uint8_t> head);

/// How to compress.
struct CompressionOptions {
  Compression compression = Compression::kGzip;
  /// gzip 0-9 (default 6, zlib's default); zstd ZSTD_minCLevel()..22
  /// (default 3, zstd's and BuildKit's default). Ignored for kNone.
  std::optional<int> level;
  /// Compression threads besides the caller's; 0 compresses on the calling
  /// thread. gzip output is the same for any value; zstd's differs between
  /// 0 and not 0 (Unsupported when libzstd lacks multithreading).
  int workers = 0;
};

/// InvalidArgument for a bad level or worker count, Unsupported for
/// bzip2/xz: what NewCompressingSink would refuse.
base::Status CheckCompressionOptions(const CompressionOptions& options);

/// A Sink that compresses everything written to it into `next` (not
/// owned; must outlive the sink). Close() ends the compressed stream, then
/// closes `next`. Writes after a failure or after Close() fail.
/// InvalidArgument for a bad level, Unsupported for bzip2/xz.
base::Result<std::unique_ptr<base::Sink>> NewCompressingSink(
    base::Sink* next, const CompressionOptions& options);

/// Reads a stream that may be compressed, yielding the uncompressed bytes.
/// The format is recognised by magic bytes: gzip (concatenated members
/// too; CRC and length checked), zstd (any number of frames; checksums
/// checked), bzip2, xz, else the bytes pass through unchanged. Corrupt or
/// truncated compressed data is a kParse error; errors of the input pass
/// through unchanged.
class DecompressingSource : public base::Source {
 public:
  ~DecompressingSource() override;

  /// Peeks at `input` (not owned; must outlive the source) to detect the
  /// format. Nothing else is read until Read() is called.
  static base::Result<std::unique_ptr<DecompressingSource>> Open(
      base::Source* input);

  base::Result<size_t> Read(std::span<uint8_t> out) override;

  /// The detected compression (kNone for plain data and empty input).
  Compression compression() const { return compression_; }

  /// Decoders pull compressed bytes through this (internal).
  class Input;
  class Decoder;

 private:
  DecompressingSource(std::unique_ptr<Input> input, Compression compression);

  std::unique_ptr<Input> input_;
  Compression compression_;
  std::unique_ptr<Decoder> decoder_;  // null until the first Read()
  bool failed_ = false;
};

}  // namespace strata::layer

#endif  // STRATA_LAYER_COMPRESSION_H_
