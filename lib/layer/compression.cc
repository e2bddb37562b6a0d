#include "layer/compression.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
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

// gzip as a series of RFC 1952 members, one per kGzipBlock bytes of input
// (as BGZF does; every gzip reader takes the members as one stream, Go's
// compress/gzip included). Each member is compressed on its own by
// libdeflate, 2-3x faster than zlib at the same level and ratio, so the
// blocks can go to workers; the bytes depend only on the input and the
// level, never on the number of workers or their timing. Memory is
// bounded: at most in_flight_limit_ blocks wait in the pipeline.
constexpr size_t kGzipBlock = 1 << 20;

struct DeflateCompressorDeleter {
  void operator()(libdeflate_compressor* c) const {
    libdeflate_free_compressor(c);
  }
};

class GzipSink : public base::Sink {
 public:
  explicit GzipSink(base::Sink* next) : next_(next) {}
  ~GzipSink() override { StopWorkers(); }

  Status Init(int level, int workers) {
    level_ = level == Z_DEFAULT_COMPRESSION ? 6 : level;
    in_flight_limit_ = 2 * static_cast<size_t>(std::max(workers, 1)) + 1;
    current_.reserve(kGzipBlock);
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
      if (current_.size() == kGzipBlock) STRATA_TRY(Submit());
    }
    return base::OkStatus();
  }
  using base::Sink::Write;

  Status Close() override {
    if (failed_ || closed_) return Dead();
    // Empty input still makes one (empty) member: a valid gzip file.
    if (!current_.empty() || submitted_ == 0) STRATA_TRY(Submit());
    while (written_ < submitted_) STRATA_TRY(WriteNext());
    closed_ = true;
    StopWorkers();
    return next_->Close();
  }

 private:
  struct Job {
    std::vector<uint8_t> input;
    std::vector<uint8_t> output;  // one whole gzip member
    bool done = false;
    bool ok = false;
  };

  Status Dead() const {
    return MakeError(Code::kInternal, "gzip: write after close or failure");
  }

  // Hands the current block on (to a worker, or compresses it here).
  Status Submit() {
    auto job = std::make_shared<Job>();
    job->input.swap(current_);
    current_.reserve(kGzipBlock);
    ++submitted_;
    if (threads_.empty()) {
      Compress(*job);
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

  // Waits for the oldest unwritten block and writes it out, in order.
  Status WriteNext() {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [&] { return jobs_.front()->done; });
      job = jobs_.front();
      jobs_.pop_front();
    }
    ++written_;
    if (!job->ok) {
      failed_ = true;
      return MakeError(Code::kInternal, "gzip: compression failed");
    }
    Status s = next_->Write(job->output);
    if (!s) failed_ = true;
    return s;
  }

  void WorkerLoop() {
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      Compress(*job);
      {
        std::lock_guard<std::mutex> lock(mu_);
        job->done = true;
      }
      done_cv_.notify_all();
    }
  }

  // One member; runs on any thread (a compressor per call: they are not
  // thread-safe, and allocating one costs little next to 1 MiB of work).
  void Compress(Job& job) const {
    std::unique_ptr<libdeflate_compressor, DeflateCompressorDeleter> c(
        libdeflate_alloc_compressor(level_));
    if (!c) return;
    job.output.resize(
        libdeflate_gzip_compress_bound(c.get(), job.input.size()));
    size_t n = libdeflate_gzip_compress(c.get(), job.input.data(),
                                        job.input.size(), job.output.data(),
                                        job.output.size());
    job.ok = n > 0;
    job.output.resize(n);
    std::vector<uint8_t>().swap(job.input);
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
  int level_ = 6;
  size_t in_flight_limit_ = 3;
  std::vector<uint8_t> current_;  // the block being filled
  size_t submitted_ = 0;
  size_t written_ = 0;
  bool failed_ = false;
  bool closed_ = false;

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // waiting for a worker
  std::deque<std::shared_ptr<Job>> jobs_;   // submitted, not yet written
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
      if (options.workers < 0) {
        return MakeError(Code::kInvalidArgument, "gzip workers must be >= 0");
      }
      auto sink = std::make_unique<GzipSink>(next);
      STRATA_TRY(sink->Init(level, options.workers));
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
