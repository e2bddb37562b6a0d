// File helpers: whole-file reads, atomic writes and an owning fd.
#ifndef STRATA_BASE_FILE_H_
#define STRATA_BASE_FILE_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::base {

/// Owns a file descriptor and closes it once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// Reads a whole file. NotFound when it does not exist, Io otherwise.
Result<std::string> ReadFile(const std::string& path);

/// True if `path` exists (any type; symlinks are not followed).
bool PathExists(const std::string& path);

/// Writes `data` to `path` through a temp file in the same directory,
/// fsync and rename, so readers see the old or the new file, never half.
Status WriteFileAtomic(const std::string& path, std::string_view data,
                       int mode = 0644);

/// "No such file" style text for an errno value.
std::string ErrnoText(int err);

}  // namespace strata::base

#endif  // STRATA_BASE_FILE_H_
