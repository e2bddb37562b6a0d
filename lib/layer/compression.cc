#include "layer/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
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

// gzip in independent blocks, as pigz writes it: the input is cut into
// kGzipBlock-byte blocks, each deflated on its own (primed with the 32 KiB
// before it as the dictionary, so little ratio is lost) and ended with a
// sync flush, the last with the final block; the CRC-32s are combined.
// The bytes depend only on the input and the level, never on how many
// workers compress or how they are scheduled, so layers stay reproducible
// while both cores compress. Memory is bounded: at most kGzipInFlight
// blocks wait in the pipeline.
constexpr size_t kGzipBlock = 1 << 20;
constexpr size_t kGzipWindow = 32 << 10;

// One raw-deflate stream per thread, reset for each block: zlib's ~270 KB
// of state is allocated once, not once per MiB. A reset stream writes the
// same bytes as a fresh one.
struct Deflater {
  explicit Deflater(int level) {
    ok = deflateInit2(&stream, level, Z_DEFLATED, -15, 8,
                      Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok) deflateEnd(&stream);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  z_stream stream{};
  bool ok = false;
};

class GzipSink : public base::Sink {
 public:
  explicit GzipSink(base::Sink* next) : next_(next) {}
  ~GzipSink() override { StopWorkers(); }

  Status Init(int level, int workers) {
    level_ = level;
    in_flight_limit_ = 2 * static_cast<size_t>(std::max(workers, 1)) + 1;
    // RFC 1952 header: no name, MTIME 0, OS 255 (Go's compress/gzip); XFL
    // as zlib sets it from the level.
    int effective = level == Z_DEFAULT_COMPRESSION ? 6 : level;
    uint8_t xfl = effective == 9 ? 2 : effective < 2 ? 4 : 0;
    const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 0xff};
    pending_header_.assign(header, header + sizeof(header));
    current_ = TakeBuffer();
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this] { WorkerLoop(); });
    }
    return base::OkStatus();
  }

  Status Write(std::span<const uint8_t> data) override {
    if (failed_ || closed_) return Dead();
    while (!data.empty()) {
      size_t n = std::min(data.size(), kGzipBlock - current_.size());
      current_.insert(current_.end(), data.begin(), data.begin() + n);
      data = data.subspan(n);
      if (current_.size() == kGzipBlock) STRATA_TRY(Submit(false));
    }
    return base::OkStatus();
  }
  using base::Sink::Write;

  Status Close() override {
    if (failed_ || closed_) return Dead();
    STRATA_TRY(Submit(true));
    while (written_ < submitted_) STRATA_TRY(WriteNext());
    uint8_t trailer[8];
    for (int i = 0; i < 4; ++i) {
      trailer[i] = static_cast<uint8_t>(crc_ >> (8 * i));
      trailer[4 + i] = static_cast<uint8_t>(total_ >> (8 * i));
    }
    STRATA_TRY(Emit(std::span<const uint8_t>(trailer, sizeof(trailer))));
    closed_ = true;
    StopWorkers();
    return next_->Close();
  }

 private:
  struct Job {
    size_t index = 0;
    std::vector<uint8_t> input;
    std::vector<uint8_t> dictionary;
    bool last = false;
    // Filled by the compressor:
    std::vector<uint8_t> output;
    size_t input_size = 0;
    uLong crc = 0;
    bool done = false;
    bool ok = false;
  };

  Status Dead() const {
    return MakeError(Code::kInternal, "gzip: write after close or failure");
  }

  // Hands the current block on (to a worker, or compresses it here).
  Status Submit(bool last) {
    auto job = std::make_shared<Job>();
    job->output = TakeBuffer();
    job->index = submitted_++;
    job->last = last;
    job->dictionary = TakeBuffer();
    job->dictionary.assign(window_.begin(), window_.end());
    size_t keep = std::min(current_.size(), kGzipWindow);
    if (keep == kGzipWindow) {
      window_.assign(current_.end() - keep, current_.end());
    } else {  // a short block: the window spans it and what came before
      window_.insert(window_.end(), current_.begin(), current_.end());
      if (window_.size() > kGzipWindow) {
        window_.erase(window_.begin(), window_.end() - kGzipWindow);
      }
    }
    job->input.swap(current_);
    current_ = TakeBuffer();
    if (threads_.empty()) {
      if (!inline_deflater_) inline_deflater_.emplace(level_);
      Compress(*inline_deflater_, *job);
      job->done = true;
      jobs_.push_back(job);
      return WriteNext();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
      queue_.push_back(job);
    }
    work_cv_.notify_one();
    // Bounded memory: wait for the oldest block once enough are out.
    while (submitted_ - written_ >= in_flight_limit_) STRATA_TRY(WriteNext());
    return base::OkStatus();
  }

  // Waits for the oldest unwritten block and writes it out.
  Status WriteNext() {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [&] { return jobs_.front()->done; });
      job = jobs_.front();
      jobs_.pop_front();
    }
    if (!job->ok) {
      failed_ = true;
      return MakeError(Code::kInternal, "gzip: deflate failed");
    }
    ++written_;
    crc_ = written_ == 1 ? job->crc
                         : crc32_combine(crc_, job->crc,
                                         static_cast<z_off_t>(job->input_size));
    total_ += job->input_size;
    if (!pending_header_.empty()) {
      STRATA_TRY(Emit(pending_header_));
      pending_header_.clear();
    }
    Status s = Emit(job->output);
    GiveBuffer(std::move(job->input));
    GiveBuffer(std::move(job->output));
    GiveBuffer(std::move(job->dictionary));
    return s;
  }

  // Block buffers are reused: a fresh 1 MiB allocation per block would
  // fault its pages in every time (and fill ASan's quarantine).
  std::vector<uint8_t> TakeBuffer() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) {
      std::vector<uint8_t> b;
      b.reserve(kGzipBlock);
      return b;
    }
    std::vector<uint8_t> b = std::move(free_.back());
    free_.pop_back();
    b.clear();
    return b;
  }
  void GiveBuffer(std::vector<uint8_t> b) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(b));
  }

  Status Emit(std::span<const uint8_t> bytes) {
    if (bytes.empty()) return base::OkStatus();
    Status s = next_->Write(bytes);
    if (!s) failed_ = true;
    return s;
  }

  void WorkerLoop() {
    Deflater deflater(level_);
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      Compress(deflater, *job);
      {
        std::lock_guard<std::mutex> lock(mu_);
        job->done = true;
      }
      done_cv_.notify_all();
    }
  }

  // Raw deflate of one block, on the calling thread's own deflater.
  static void Compress(Deflater& deflater, Job& job) {
    job.crc = crc32(0, job.input.data(), static_cast<uInt>(job.input.size()));
    job.input_size = job.input.size();
    z_stream& zs = deflater.stream;
    job.ok = deflater.ok && deflateReset(&zs) == Z_OK;
    if (job.ok && !job.dictionary.empty()) {
      job.ok = deflateSetDictionary(
                   &zs, job.dictionary.data(),
                   static_cast<uInt>(job.dictionary.size())) == Z_OK;
    }
    if (!job.ok) return;
    job.output.resize(deflateBound(&zs, job.input.size()) + 16);
    zs.next_in = const_cast<Bytef*>(job.input.data());
    zs.avail_in = static_cast<uInt>(job.input.size());
    zs.next_out = job.output.data();
    zs.avail_out = static_cast<uInt>(job.output.size());
    int r = deflate(&zs, job.last ? Z_FINISH : Z_SYNC_FLUSH);
    job.ok = job.last ? r == Z_STREAM_END : (r == Z_OK && zs.avail_in == 0);
    job.output.resize(job.output.size() - zs.avail_out);
  }

  void StopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  base::Sink* next_;
  int level_ = Z_DEFAULT_COMPRESSION;
  size_t in_flight_limit_ = 3;
  std::vector<uint8_t> pending_header_;
  std::optional<Deflater> inline_deflater_;  // when there are no workers
  std::vector<uint8_t> current_;  // the block being filled
  std::vector<uint8_t> window_;   // the last 32 KiB handed on
  size_t submitted_ = 0;
  size_t written_ = 0;
  uLong crc_ = 0;
  uint64_t total_ = 0;
  bool failed_ = false;
  bool closed_ = false;

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // waiting for a worker
  std::deque<std::shared_ptr<Job>> jobs_;   // submitted, not yet written
  std::vector<std::vector<uint8_t>> free_;  // block buffers to reuse
  bool stop_ = false;
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

Status CheckCompressionOptions(const CompressionOptions& options) {
  if (options.workers < 0) {
    return MakeError(Code::kInvalidArgument,
                     CompressionName(options.compression),
                     " workers must be >= 0");
  }
  switch (options.compression) {
    case Compression::kNone:
      return base::OkStatus();
    case Compression::kGzip: {
      int level = options.level.value_or(Z_DEFAULT_COMPRESSION);
      if (level != Z_DEFAULT_COMPRESSION && (level < 0 || level > 9)) {
        return MakeError(Code::kInvalidArgument, "gzip level ", level,
                         " is not in 0..9");
      }
      return base::OkStatus();
    }
    case Compression::kZstd: {
      int level = options.level.value_or(ZSTD_CLEVEL_DEFAULT);
      if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
        return MakeError(Code::kInvalidArgument, "zstd level ", level,
                         " is not in ", ZSTD_minCLevel(), "..",
                         ZSTD_maxCLevel());
      }
      return base::OkStatus();
    }
    default:
      return MakeError(Code::kUnsupported, "cannot write ",
                       CompressionName(options.compression),
                       " compressed layers");
  }
}

Result<std::unique_ptr<base::Sink>> NewCompressingSink(
    base::Sink* next, const CompressionOptions& options) {
  STRATA_CHECK(next != nullptr);
  STRATA_TRY(CheckCompressionOptions(options));
  switch (options.compression) {
    case Compression::kNone:
      return std::unique_ptr<base::Sink>(new PassThroughSink(next));
    case Compression::kGzip: {
      auto sink = std::make_unique<GzipSink>(next);
      STRATA_TRY(sink->Init(options.level.value_or(Z_DEFAULT_COMPRESSION),
                            options.workers));
      return std::unique_ptr<base::Sink>(std::move(sink));
    }
    case Compression::kZstd: {
      auto sink = std::make_unique<ZstdSink>(next);
      STRATA_TRY(sink->Init(options.level.value_or(ZSTD_CLEVEL_DEFAULT),
                            options.workers));
      return std::unique_ptr<base::Sink>(std::move(sink));
    }
    default:
      return MakeError(Code::kUnsupported, "cannot write ",
                       CompressionName(options.compression),
                       " compressed layers");
  }
}

}  // namespace strata::layer
