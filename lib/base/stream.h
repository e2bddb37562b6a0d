// Byte streams. Layers, blobs and uploads are pipelines of Sinks (tar ->
// hash -> compress -> hash -> file), so every byte passes once and nothing
// is held whole in memory.
#ifndef STRATA_BASE_STREAM_H_
#define STRATA_BASE_STREAM_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/file.h"
#include "base/result.h"

namespace strata::base {

/// Something bytes are written to.
class Sink {
 public:
  virtual ~Sink() = default;
  /// Writes all of `data` or fails.
  virtual Status Write(std::span<const uint8_t> data) = 0;
  Status Write(std::string_view data) {
    return Write(
        std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  }
  /// Flushes buffered bytes downstream; the end of the stream for filters.
  virtual Status Close() { return OkStatus(); }
};

/// Something bytes are read from.
class Source {
 public:
  virtual ~Source() = default;
  /// Reads up to out.size() bytes; 0 means end of stream.
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;
};

/// Passes bytes on to another sink while hashing and counting them.
class DigestingSink : public Sink {
 public:
  explicit DigestingSink(Sink* next) : next_(next) {}
  Status Write(std::span<const uint8_t> data) override;
  using Sink::Write;
  Status Close() override { return next_ ? next_->Close() : OkStatus(); }
  /// Digest of everything written so far; call once, after the last Write.
  Digest Finish() { return hash_.Finish(); }
  int64_t size() const { return size_; }

 private:
  Sink* next_;  // may be null: then bytes are only hashed and counted
  Sha256 hash_;
  int64_t size_ = 0;
};

/// Appends to a std::string (tests, small blobs).
class StringSink : public Sink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    out_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return OkStatus();
  }
  using Sink::Write;
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

/// Writes to a file descriptor it does not own.
class FdSink : public Sink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Status Write(std::span<const uint8_t> data) override;
  using Sink::Write;

 private:
  int fd_;
  std::string name_;  // for error messages
};

/// Reads a file descriptor it owns.
class FdSource : public Source {
 public:
  FdSource(UniqueFd fd, std::string name)
      : fd_(std::move(fd)), name_(std::move(name)) {}
  /// Opens `path` for reading.
  static Result<FdSource> Open(const std::string& path);
  Result<size_t> Read(std::span<uint8_t> out) override;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string name_;
};

/// Reads from a string (tests, small blobs).
class StringSource : public Source {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

/// Copies `source` to `sink` until the end, in 1 MiB chunks.
Result<int64_t> CopyStream(Source& source, Sink& sink);

}  // namespace strata::base

#endif  // STRATA_BASE_STREAM_H_
