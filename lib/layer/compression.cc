#include "layer/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr size_t kOutChunk = 256 << 10;

// Forwards bytes unchanged (kNone), so callers need no special case.
class PassThroughSink : public base::Sink {
 public:
  explicit PassThroughSink(base::Sink* next) : next_(next) {}
  Status Write(std::span<const uint8_t> data) override {
    return next_->Write(data);
  }
  using base::Sink::Write;
  Status Close() override { return next_->Close(); }

 private:
  base::Sink* next_;
};

class GzipSink : public base::Sink {
 public:
  explicit GzipSink(base::Sink* next) : next_(next), out_(kOutChunk) {}
  ~GzipSink() override {
    if (initialized_) deflateEnd(&zs_);
  }

  Status Init(int level) {
    // 15 window bits + 16 selects the gzip wrapper; memLevel 8 is zlib's
    // default (what deflateInit uses).
    if (deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      return MakeError(Code::kInternal, "gzip: deflateInit2 failed");
    }
    initialized_ = true;
    // A fixed header: no name, MTIME 0, OS 255 (Go's compress/gzip).
    std::memset(&header_, 0, sizeof(header_));
    header_.os = 255;
    if (deflateSetHeader(&zs_, &header_) != Z_OK) {
      return MakeError(Code::kInternal, "gzip: deflateSetHeader failed");
    }
    return base::OkStatus();
  }

  Status Write(std::span<const uint8_t> data) override {
    if (failed_ || closed_) return Dead();
    while (!data.empty()) {
      size_t n = std::min<size_t>(data.size(), UINT_MAX);
      zs_.next_in = const_cast<Bytef*>(data.data());
      zs_.avail_in = static_cast<uInt>(n);
      while (zs_.avail_in > 0) STRATA_TRY(Deflate(Z_NO_FLUSH));
      data = data.subspan(n);
    }
    return base::OkStatus();
  }
  using base::Sink::Write;

  Status Close() override {
    if (failed_ || closed_) return Dead();
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool done, Finish());
      if (done) break;
    }
    closed_ = true;
    return next_->Close();
  }

 private:
  Status Dead() const {
    return MakeError(Code::kInternal, "gzip: write after close or failure");
  }

  // One deflate() call; hands whatever output it made to next_.
  Status Deflate(int flush) {
    zs_.next_out = out_.data();
    zs_.avail_out = static_cast<uInt>(out_.size());
    int r = deflate(&zs_, flush);
    if (r == Z_STREAM_ERROR) {
      failed_ = true;
      return MakeError(Code::kInternal, "gzip: deflate failed");
    }
    size_t produced = out_.size() - zs_.avail_out;
    if (produced > 0) {
      Status s = next_->Write(std::span(out_.data(), produced));
      if (!s) failed_ = true;
      return s;
    }
    return base::OkStatus();
  }

  Result<bool> Finish() {
    zs_.next_out = out_.data();
    zs_.avail_out = static_cast<uInt>(out_.size());
    int r = deflate(&zs_, Z_FINISH);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
      failed_ = true;
      return MakeError(Code::kInternal, "gzip: deflate finish failed");
    }
    size_t produced = out_.size() - zs_.avail_out;
    if (produced > 0) {
      Status s = next_->Write(std::span(out_.data(), produced));
      if (!s) {
        failed_ = true;
        return std::move(s).error();
      }
    }
    return r == Z_STREAM_END;
  }

  base::Sink* next_;
  z_stream zs_{};
  gz_header header_{};  // zlib keeps a pointer to it until the header is out
  std::vector<uint8_t> out_;
  bool initialized_ = false;
  bool failed_ = false;
  bool closed_ = false;
};

struct ZstdCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

class ZstdSink : public base::Sink {
 public:
  explicit ZstdSink(base::Sink* next) : next_(next), out_(kOutChunk) {}

  Status Init(int level, int workers) {
    ctx_.reset(ZSTD_createCCtx());
    if (!ctx_) return MakeError(Code::kInternal, "zstd: out of memory");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel,
                                            level)) ||
        ZSTD_isError(
            ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_checksumFlag, 1))) {
      return MakeError(Code::kInternal, "zstd: cannot set parameters");
    }
    if (workers > 0 && ZSTD_isError(ZSTD_CCtx_setParameter(
                           ctx_.get(), ZSTD_c_nbWorkers, workers))) {
      return MakeError(
          Code::kUnsupported,
          "zstd: this libzstd has no multithreading (workers=", workers, ")");
    }
    return base::OkStatus();
  }

  Status Write(std::span<const uint8_t> data) override {
    if (failed_ || closed_) return Dead();
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      STRATA_ASSIGN_OR_RETURN(size_t left, Step(&in, ZSTD_e_continue));
      (void)left;
    }
    return base::OkStatus();
  }
  using base::Sink::Write;

  Status Close() override {
    if (failed_ || closed_) return Dead();
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (true) {
      STRATA_ASSIGN_OR_RETURN(size_t left, Step(&in, ZSTD_e_end));
      if (left == 0) break;
    }
    closed_ = true;
    return next_->Close();
  }

 private:
  Status Dead() const {
    return MakeError(Code::kInternal, "zstd: write after close or failure");
  }

  // One ZSTD_compressStream2() call; returns what zstd still has to flush.
  Result<size_t> Step(ZSTD_inBuffer* in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t left = ZSTD_compressStream2(ctx_.get(), &out, in, mode);
    if (ZSTD_isError(left)) {
      failed_ = true;
      return MakeError(Code::kInternal, "zstd: ", ZSTD_getErrorName(left));
    }
    if (out.pos > 0) {
      Status s = next_->Write(std::span(out_.data(), out.pos));
      if (!s) {
        failed_ = true;
        return std::move(s).error();
      }
    }
    return left;
  }

  base::Sink* next_;
  std::unique_ptr<ZSTD_CCtx, ZstdCtxDeleter> ctx_;
  std::vector<uint8_t> out_;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kXz:
      return "xz";
  }
  return "unknown";
}

Result<std::string> LayerMediaType(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return std::string(kMediaTypeLayerTar);
    case Compression::kGzip:
      return std::string(kMediaTypeLayerGzip);
    case Compression::kZstd:
      return std::string(kMediaTypeLayerZstd);
    default:
      return MakeError(Code::kUnsupported, "no OCI layer media type for ",
                       CompressionName(compression));
  }
}

Result<Compression> CompressionFromMediaType(std::string_view media_type) {
  struct Known {
    std::string_view type;
    Compression compression;
  };
  static constexpr Known kKnown[] = {
      {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar",
       Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
       Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
       Compression::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
       Compression::kGzip},
  };
  for (const Known& k : kKnown) {
    if (k.type == media_type) return k.compression;
  }
  return MakeError(Code::kUnsupported, "not a layer media type: ", media_type);
}

Compression DetectCompression(std::span<const uint8_t> h) {
  auto starts = [&](std::initializer_list<uint8_t> magic) {
    return h.size() >= magic.size() &&
           std::equal(magic.begin(), magic.end(), h.begin());
  };
  if (starts({0x1f, 0x8b})) return Compression::kGzip;
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return Compression::kZstd;
  if (starts({'B', 'Z', 'h'}) && h.size() >= 4 && h[3] >= '1' && h[3] <= '9')
    return Compression::kBzip2;
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::kXz;
  return Compression::kNone;
}

Result<std::unique_ptr<base::Sink>> NewCompressingSink(
    base::Sink* next, const CompressionOptions& options) {
  STRATA_CHECK(next != nullptr);
  switch (options.compression) {
    case Compression::kNone:
      return std::unique_ptr<base::Sink>(new PassThroughSink(next));
    case Compression::kGzip: {
      int level = options.level.value_or(Z_DEFAULT_COMPRESSION);
      if (level != Z_DEFAULT_COMPRESSION && (level < 0 || level > 9)) {
        return MakeError(Code::kInvalidArgument, "gzip level ", level,
                         " is not in 0..9");
      }
      auto sink = std::make_unique<GzipSink>(next);
      STRATA_TRY(sink->Init(level));
      return std::unique_ptr<base::Sink>(std::move(sink));
    }
    case Compression::kZstd: {
      int level = options.level.value_or(ZSTD_CLEVEL_DEFAULT);
      if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
        return MakeError(Code::kInvalidArgument, "zstd level ", level,
                         " is not in ", ZSTD_minCLevel(), "..",
                         ZSTD_maxCLevel());
      }
      if (options.workers < 0) {
        return MakeError(Code::kInvalidArgument, "zstd workers must be >= 0");
      }
      auto sink = std::make_unique<ZstdSink>(next);
      STRATA_TRY(sink->Init(level, options.workers));
      return std::unique_ptr<base::Sink>(std::move(sink));
    }
    default:
      return MakeError(Code::kUnsupported, "cannot write ",
                       CompressionName(options.compression),
                       " compressed layers");
  }
}

}  // namespace strata::layer
