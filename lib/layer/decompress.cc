// DecompressingSource: gzip and zstd are decoded with zlib and libzstd
// directly, because they verify checksums (libarchive's gzip filter skips
// the CRC); bzip2 and xz go through libarchive's "raw" format.
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "layer/archive_util.h"
#include "layer/compression.h"

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {
constexpr size_t kInChunk = 256 << 10;
constexpr size_t kMagicBytes = 6;
}  // namespace

// The compressed input: the bytes Open() peeked at, then the source.
class DecompressingSource::Input {
 public:
  Input(base::Source* source, std::string head)
      : source_(source), head_(std::move(head)) {}

  /// The next chunk, valid until the next call; empty at the end.
  Result<std::span<const uint8_t>> Next() {
    if (head_pos_ < head_.size()) {
      std::span<const uint8_t> s(
          reinterpret_cast<const uint8_t*>(head_.data()) + head_pos_,
          head_.size() - head_pos_);
      head_pos_ = head_.size();
      return s;
    }
    if (buffer_.empty()) buffer_.resize(kInChunk);
    STRATA_ASSIGN_OR_RETURN(size_t n, source_->Read(buffer_));
    return std::span<const uint8_t>(buffer_.data(), n);
  }

  /// Plain data: straight into `out`, with no copy through buffer_.
  Result<size_t> ReadInto(std::span<uint8_t> out) {
    if (head_pos_ < head_.size()) {
      size_t n = std::min(out.size(), head_.size() - head_pos_);
      std::memcpy(out.data(), head_.data() + head_pos_, n);
      head_pos_ += n;
      return n;
    }
    return source_->Read(out);
  }

 private:
  base::Source* source_;
  std::string head_;
  size_t head_pos_ = 0;
  std::vector<uint8_t> buffer_;
};

class DecompressingSource::Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
};

namespace {

using Input = DecompressingSource::Input;
using Decoder = DecompressingSource::Decoder;

class PlainDecoder : public Decoder {
 public:
  explicit PlainDecoder(Input* in) : in_(in) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    return in_->ReadInto(out);
  }

 private:
  Input* in_;
};

// RFC 1952, any number of members back to back (as Go's gzip.Reader
// reads them by default).
class GzipDecoder : public Decoder {
 public:
  explicit GzipDecoder(Input* in) : in_(in) {}
  ~GzipDecoder() override {
    if (initialized_) inflateEnd(&zs_);
  }

  Status Init() {
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) {
      return MakeError(Code::kInternal, "gzip: inflateInit2 failed");
    }
    initialized_ = true;
    return base::OkStatus();
  }

  Result<size_t> Read(std::span<uint8_t> out) override {
    if (done_) return size_t{0};
    size_t want = std::min<size_t>(out.size(), UINT_MAX);
    zs_.next_out = out.data();
    zs_.avail_out = static_cast<uInt>(want);
    while (zs_.avail_out == want) {
      if (zs_.avail_in == 0) {
        STRATA_ASSIGN_OR_RETURN(std::span<const uint8_t> chunk, in_->Next());
        if (chunk.empty()) {
          if (in_member_) {
            return MakeError(Code::kParse, "gzip: unexpected end of stream");
          }
          done_ = true;
          break;
        }
        zs_.next_in = const_cast<Bytef*>(chunk.data());
        zs_.avail_in = static_cast<uInt>(chunk.size());
      }
      if (!in_member_) {  // the next member starts here
        inflateReset(&zs_);
        in_member_ = true;
      }
      int r = inflate(&zs_, Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        in_member_ = false;
        continue;
      }
      if (r != Z_OK && r != Z_BUF_ERROR) {
        return MakeError(Code::kParse,
                         "gzip: ", zs_.msg ? zs_.msg : "corrupt data");
      }
    }
    return want - zs_.avail_out;
  }

 private:
  Input* in_;
  z_stream zs_{};
  bool initialized_ = false;
  bool in_member_ = true;
  bool done_ = false;
};

struct ZstdDctxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// RFC 8878 frames (and skippable frames) back to back; frame checksums
// are verified by libzstd.
class ZstdDecoder : public Decoder {
 public:
  explicit ZstdDecoder(Input* in) : in_(in), ctx_(ZSTD_createDCtx()) {}

  Result<size_t> Read(std::span<uint8_t> out) override {
    if (!ctx_) return MakeError(Code::kInternal, "zstd: out of memory");
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    while (o.pos == 0 && !done_) {
      if (buf_.pos == buf_.size && !eof_) {
        STRATA_ASSIGN_OR_RETURN(std::span<const uint8_t> chunk, in_->Next());
        eof_ = chunk.empty();
        buf_ = {chunk.data(), chunk.size(), 0};
      }
      size_t consumed = buf_.pos;
      size_t r = ZSTD_decompressStream(ctx_.get(), &o, &buf_);
      if (ZSTD_isError(r)) {
        return MakeError(Code::kParse, "zstd: ", ZSTD_getErrorName(r));
      }
      // 0: a frame ended and is flushed. A call with no input after that
      // returns a hint for the next frame, which does not reopen it.
      if (r == 0) {
        frame_done_ = true;
      } else if (buf_.pos != consumed || o.pos > 0) {
        frame_done_ = false;
      }
      if (eof_ && o.pos == 0) {
        // Nothing more can come out; a frame left open is truncated.
        if (!frame_done_) {
          return MakeError(Code::kParse, "zstd: unexpected end of stream");
        }
        done_ = true;
      }
    }
    return o.pos;
  }

 private:
  Input* in_;
  std::unique_ptr<ZSTD_DCtx, ZstdDctxDeleter> ctx_;
  ZSTD_inBuffer buf_{nullptr, 0, 0};
  bool frame_done_ = false;
  bool eof_ = false;
  bool done_ = false;
};

// bzip2 and xz through libarchive's raw format and read filters.
class ArchiveDecoder : public Decoder {
 public:
  explicit ArchiveDecoder(Input* in) : in_(in) {}

  Status Init(Compression want) {
    reader_.reset(archive_read_new());
    if (!reader_) return MakeError(Code::kInternal, "archive_read_new");
    STRATA_TRY(internal::EnableReadFilters(reader_.get()));
    archive_read_support_format_raw(reader_.get());
    archive_entry* entry = nullptr;
    if (archive_read_open(reader_.get(), this, nullptr, &Callback, nullptr) !=
            ARCHIVE_OK ||
        archive_read_next_header(reader_.get(), &entry) != ARCHIVE_OK) {
      return Failure("reading compressed stream");
    }
    int want_code =
        want == Compression::kBzip2 ? ARCHIVE_FILTER_BZIP2 : ARCHIVE_FILTER_XZ;
    if (archive_filter_code(reader_.get(), 0) != want_code) {
      return MakeError(Code::kParse, "corrupt ", CompressionName(want),
                       " header");
    }
    return base::OkStatus();
  }

  Result<size_t> Read(std::span<uint8_t> out) override {
    la_ssize_t n = archive_read_data(reader_.get(), out.data(), out.size());
    if (n < 0) return Failure("decompressing");
    return static_cast<size_t>(n);
  }

 private:
  static la_ssize_t Callback(archive* a, void* client, const void** out) {
    auto* self = static_cast<ArchiveDecoder*>(client);
    Result<std::span<const uint8_t>> chunk = self->in_->Next();
    if (!chunk) {
      self->input_error_ = chunk.error();
      archive_set_error(a, EIO, "%s", chunk.error().ToString().c_str());
      return -1;
    }
    *out = chunk->data();
    return static_cast<la_ssize_t>(chunk->size());
  }

  base::Error Failure(std::string_view what) {
    if (input_error_) return *input_error_;
    return MakeError(Code::kParse, what, ": ",
                     internal::ArchiveErrorText(reader_.get()));
  }

  Input* in_;
  internal::ArchiveReadPtr reader_;
  std::optional<base::Error> input_error_;
};

}  // namespace

DecompressingSource::DecompressingSource(std::unique_ptr<Input> input,
                                         Compression compression)
    : input_(std::move(input)), compression_(compression) {}

DecompressingSource::~DecompressingSource() = default;

Result<std::unique_ptr<DecompressingSource>> DecompressingSource::Open(
    base::Source* input) {
  STRATA_CHECK(input != nullptr);
  std::string head;
  uint8_t buf[kMagicBytes];
  while (head.size() < kMagicBytes) {
    STRATA_ASSIGN_OR_RETURN(
        size_t n, input->Read(std::span(buf, kMagicBytes - head.size())));
    if (n == 0) break;
    head.append(reinterpret_cast<const char*>(buf), n);
  }
  Compression c = DetectCompression(
      std::span(reinterpret_cast<const uint8_t*>(head.data()), head.size()));
  return std::unique_ptr<DecompressingSource>(new DecompressingSource(
      std::make_unique<Input>(input, std::move(head)), c));
}

Result<size_t> DecompressingSource::Read(std::span<uint8_t> out) {
  if (failed_) return MakeError(Code::kInternal, "read after a failure");
  if (out.empty()) return size_t{0};
  if (!decoder_) {
    Status s = base::OkStatus();
    switch (compression_) {
      case Compression::kNone:
        decoder_ = std::make_unique<PlainDecoder>(input_.get());
        break;
      case Compression::kGzip: {
        auto d = std::make_unique<GzipDecoder>(input_.get());
        s = d->Init();
        decoder_ = std::move(d);
        break;
      }
      case Compression::kZstd:
        decoder_ = std::make_unique<ZstdDecoder>(input_.get());
        break;
      default: {
        auto d = std::make_unique<ArchiveDecoder>(input_.get());
        s = d->Init(compression_);
        decoder_ = std::move(d);
      }
    }
    if (!s) {
      failed_ = true;
      return std::move(s).error();
    }
  }
  Result<size_t> n = decoder_->Read(out);
  if (!n) failed_ = true;
  return n;
}

}  // namespace strata::layer
