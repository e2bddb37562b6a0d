#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace strata::base {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string ErrnoText(int err) { return std::strerror(err); }

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return MakeError(err == ENOENT ? Code::kNotFound : Code::kIo, path, ": ",
                     ErrnoText(err));
  }
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return MakeError(Code::kIo, path, ": ", ErrnoText(errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

static Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return MakeError(Code::kIo, path, ": ", ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status WriteFileAtomic(const std::string& path, std::string_view data,
                       int mode) {
  std::random_device rd;
  std::string tmp = StrCat(path, ".tmp-", ::getpid(), "-", rd());
  UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return MakeError(Code::kIo, tmp, ": ", ErrnoText(errno));
  Status st = WriteAll(fd.get(), data, tmp);
  if (st && ::fsync(fd.get()) != 0) {
    st = MakeError(Code::kIo, tmp, ": fsync: ", ErrnoText(errno));
  }
  // fchmod: the umask must not narrow the mode the caller asked for.
  if (st && ::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
    st = MakeError(Code::kIo, tmp, ": chmod: ", ErrnoText(errno));
  }
  fd.reset();
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = MakeError(Code::kIo, path, ": rename: ", ErrnoText(errno));
  }
  if (!st) ::unlink(tmp.c_str());
  return st;
}

}  // namespace strata::base
