#include "base/stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace strata::base {

Status DigestingSink::Write(std::span<const uint8_t> data) {
  hash_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  return next_ ? next_->Write(data) : OkStatus();
}

Status FdSink::Write(std::span<const uint8_t> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return MakeError(Code::kIo, name_, ": write: ", ErrnoText(errno));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return OkStatus();
}

Result<FdSource> FdSource::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return MakeError(err == ENOENT ? Code::kNotFound : Code::kIo, path, ": ",
                     ErrnoText(err));
  }
  return FdSource(std::move(fd), path);
}

Result<size_t> FdSource::Read(std::span<uint8_t> out) {
  while (true) {
    ssize_t n = ::read(fd_.get(), out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) {
      return MakeError(Code::kIo, name_, ": read: ", ErrnoText(errno));
    }
  }
}

Result<size_t> StringSource::Read(std::span<uint8_t> out) {
  size_t n = std::min(out.size(), data_.size() - pos_);
  std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<int64_t> CopyStream(Source& source, Sink& sink) {
  std::vector<uint8_t> buf(1 << 20);
  int64_t total = 0;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(size_t n, source.Read(buf));
    if (n == 0) return total;
    STRATA_TRY(sink.Write(std::span(buf.data(), n)));
    total += static_cast<int64_t>(n);
  }
}

}  // namespace strata::base
