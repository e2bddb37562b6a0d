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

// gzip in independent blocks: the input is cut into kGzipBlock-byte
// blocks, each compressed on its own by libdeflate (about twice zlib's
// speed at the same ratio) and the CRC-32s combined, so both cores share
// the work. libdeflate ends each block's deflate data with a final block;
// all but the last are joined to the next as zlib's gzjoin does: the
// final-block bit is cleared and an empty stored block (what a sync flush
// writes) brings the stream to a byte boundary. The result is one gzip
// member holding one deflate stream, which every reader takes whole. The
// bytes depend only on the input, the level and libdeflate's version,
// never on how many workers compress or how they are scheduled. Memory is
// bounded: at most kGzipInFlight blocks wait in the pipeline.
constexpr size_t kGzipBlock = 1 << 20;

// Per thread: a libdeflate compressor for the level, a fast one that
// probes for incompressible blocks, and a raw inflate stream that finds
// where the final block starts in the compressor's output.
struct Deflater {
  explicit Deflater(int level)
      : compressor(libdeflate_alloc_compressor(level)),
        probe(libdeflate_alloc_compressor(1)) {
    ok = compressor != nullptr && probe != nullptr &&
         inflateInit2(&scan, -15) == Z_OK;
  }
  ~Deflater() {
    if (compressor != nullptr) libdeflate_free_compressor(compressor);
    if (probe != nullptr) libdeflate_free_compressor(probe);
    inflateEnd(&scan);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  libdeflate_compressor* compressor;
  libdeflate_compressor* probe;
  z_stream scan{};
  std::vector<uint8_t> scratch;
  bool ok = false;
};

// Random-looking data (archives, wheels, model weights, media) does not
// deflate, and libdeflate spends its full effort finding that out. A block
// none of whose four 16 KiB samples level 1 can shrink by 2% is stored
// as it is. The test reads only the input, so the bytes stay the same
// for any number of workers.
bool LooksIncompressible(Deflater& d, std::span<const uint8_t> in) {
  constexpr size_t kSample = 16 << 10;
  constexpr size_t kSamples = 4;
  if (in.size() < kSample * kSamples) return false;
  d.scratch.resize(kSample);
  for (size_t i = 0; i < kSamples; ++i) {
    size_t at = (in.size() - kSample) * i / (kSamples - 1);
    // 0 when the output does not fit in 98% of the input.
    if (libdeflate_deflate_compress(d.probe, in.data() + at, kSample,
                                    d.scratch.data(),
                                    kSample * 98 / 100) != 0) {
      return false;
    }
  }
  return true;
}

// `in` as deflate stored blocks (RFC 1951 3.2.4), the last one final when
// `final`. Starts and ends on a byte boundary, as every block here does.
void StoredBlocks(std::span<const uint8_t> in, bool final,
                  std::vector<uint8_t>& out) {
  out.clear();
  size_t pos = 0;
  do {
    size_t n = std::min<size_t>(in.size() - pos, 0xffff);
    bool last = final && pos + n == in.size();
    const uint8_t header[5] = {
        static_cast<uint8_t>(last ? 1 : 0), static_cast<uint8_t>(n),
        static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(~n),
        static_cast<uint8_t>(~n >> 8)};
    out.insert(out.end(), header, header + sizeof(header));
    out.insert(out.end(), in.begin() + pos, in.begin() + pos + n);
    pos += n;
  } while (pos < in.size());
}

// Makes `data` (`size` bytes, one complete raw deflate stream) continuable:
// clears the final-block bit and appends an empty non-final stored block.
// Inflates it with Z_BLOCK to find the last block's first bit and the
// stream's end, as zlib's examples/gzjoin.c does.
bool JoinableDeflate(z_stream& scan, std::vector<uint8_t>& data,
                     size_t size) {
  if (inflateReset(&scan) != Z_OK) return false;
  uint8_t discard[16 << 10];
  scan.next_in = data.data();
  scan.avail_in = static_cast<uInt>(size);
  uint64_t last_start = 0;  // bit offset of the final block's header
  uint64_t end = 0;         // bit offset just past the final block
  while (true) {
    scan.next_out = discard;
    scan.avail_out = sizeof(discard);
    int r = inflate(&scan, Z_BLOCK);
    if (r != Z_OK) return false;  // the final block always stops first
    if ((scan.data_type & 128) == 0) continue;  // mid-block: more output
    uint64_t at = uint64_t{size - scan.avail_in} * 8 - (scan.data_type & 7);
    if (scan.data_type & 64) {  // the final block has just ended
      end = at;
      break;
    }
    last_start = at;
  }
  if ((end + 7) / 8 != size) return false;
  data[last_start / 8] &= static_cast<uint8_t>(~(1u << (last_start % 8)));
  if (end % 8 != 0) {  // zero the padding: the stored block's header goes there
    data[end / 8] &= static_cast<uint8_t>((1u << (end % 8)) - 1);
  }
  data.resize(size);
  // The header's 3 bits (BFINAL 0, BTYPE 00) need a fresh byte unless
  // they fit in the last one; then LEN 0 and NLEN 0xffff.
  if (end % 8 == 0 || 8 - end % 8 < 3) data.push_back(0);
  for (uint8_t byte : {0x00, 0x00, 0xff, 0xff}) data.push_back(byte);
  return true;
}

class GzipSink : public base::Sink {
 public:
  explicit GzipSink(base::Sink* next) : next_(next) {}
  ~GzipSink() override { StopWorkers(); }

  Status Init(int level, int workers) {
    level_ = level == Z_DEFAULT_COMPRESSION ? 6 : level;
    in_flight_limit_ = 2 * static_cast<size_t>(std::max(workers, 1)) + 1;
    // RFC 1952 header: no name, MTIME 0, OS 255 (Go's compress/gzip); XFL
    // as zlib sets it from the level.
    uint8_t xfl = level_ == 9 ? 2 : level_ < 2 ? 4 : 0;
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

  // Compresses one block on the calling thread's own deflater.
  static void Compress(Deflater& deflater, Job& job) {
    const size_t n = job.input.size();
    job.input_size = n;
    job.crc = static_cast<uLong>(libdeflate_crc32(0, job.input.data(), n));
    job.ok = deflater.ok;
    if (!job.ok) return;
    if (LooksIncompressible(deflater, job.input)) {
      StoredBlocks(job.input, job.last, job.output);
      return;
    }
    // Room for the joint too: an empty stored block, 5 bytes at most.
    job.output.resize(
        libdeflate_deflate_compress_bound(deflater.compressor, n) + 5);
    size_t size = libdeflate_deflate_compress(
        deflater.compressor, job.input.data(), n, job.output.data(),
        job.output.size());
    job.ok = size > 0;
    if (!job.ok) return;
    if (job.last) {
      job.output.resize(size);
    } else {
      job.ok = JoinableDeflate(deflater.scan, job.output, size);
    }
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
  std::vector<uint8_t> pending_header_;
  std::optional<Deflater> inline_deflater_;  // when there are no workers
  std::vector<uint8_t> current_;  // the block being filled
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
