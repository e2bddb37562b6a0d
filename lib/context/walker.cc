#include "context/walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>
#include <utility>

#include "base/file.h"
#include "base/str.h"
#include "context/pattern_matcher.h"

namespace strata::context {
namespace {

using base::Code;
using base::MakeError;

// One name read from a directory, with its lstat data taken right away (the
// directory is open then; fsutil stats lazily, but only the timing differs).
struct DirEntry {
  std::string name;
  bool is_dir = false;  // from lstat, or from d_type when lstat failed
  int error = 0;        // errno of the failed lstat/readlink, else 0
  const char* failed_op = "";
  struct stat st = {};
  std::string link_target;
};

// A directory being walked: its remaining entries and its match results.
struct Frame {
  std::string rel;  // relative to the root; "" for the root
  std::vector<DirEntry> entries;
  size_t next = 0;
  MatchInfo info;        // this directory's results, for its children
  bool reported = true;  // its own entry has been passed to the callback
  WalkEntry self;        // reported lazily while !reported
};

// fsutil's isNotExist: the entry went away while we walked.
bool IsNotExist(int err) { return err == ENOENT || err == ENOTDIR; }

// Opens directory `rel` below `root_fd` without following any symlink, so
// a directory swapped for a symlink mid-walk cannot lead outside the root.
int OpenDirBeneath(int root_fd, const std::string& rel) {
  if (rel.empty()) {
    return ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  static std::atomic<bool> no_openat2{false};
  if (!no_openat2.load(std::memory_order_relaxed)) {
    struct open_how how = {};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // Old kernels and some seccomp profiles lack openat2.
    if (errno != ENOSYS && errno != EPERM) return -1;
    no_openat2.store(true, std::memory_order_relaxed);
  }
  base::UniqueFd cur(::dup(root_fd));
  if (!cur.valid()) return -1;
  for (const std::string& part : base::Split(rel, '/')) {
    int next = ::openat(cur.get(), part.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -1;
    cur.reset(next);
  }
  return cur.release();
}

// Reads symlink `name` in `dir_fd`; returns errno or 0.
int ReadLinkAt(int dir_fd, const char* name, std::string* target) {
  std::string buf(256, '\0');
  while (true) {
    ssize_t n = ::readlinkat(dir_fd, name, buf.data(), buf.size());
    if (n < 0) return errno;
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      *target = std::move(buf);
      return 0;
    }
    buf.resize(buf.size() * 2);
  }
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// Lists directory `fd` (taking ownership), sorted by name in byte order.
// Returns errno or 0.
int ReadEntries(int fd, std::vector<DirEntry>* out) {
  std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
  if (!dir) {
    int err = errno;
    ::close(fd);
    return err;
  }
  const int dir_fd = ::dirfd(dir.get());
  std::vector<DirEntry> entries;
  while (true) {
    errno = 0;
    struct dirent* d = ::readdir(dir.get());
    if (d == nullptr) {
      if (errno != 0) return errno;
      break;
    }
    std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    DirEntry e;
    e.name = std::string(name);
    if (::fstatat(dir_fd, d->d_name, &e.st, AT_SYMLINK_NOFOLLOW) == 0) {
      e.is_dir = S_ISDIR(e.st.st_mode);
      if (S_ISLNK(e.st.st_mode)) {
        e.error = ReadLinkAt(dir_fd, d->d_name, &e.link_target);
        if (e.error != 0) e.failed_op = "readlink";
      }
    } else {
      e.error = errno;
      e.failed_op = "lstat";
      // Without d_type Go's ReadDir must lstat too: a vanished entry is
      // dropped, any other failure fails the listing.
      if (d->d_type == DT_UNKNOWN) {
        if (e.error == ENOENT) continue;
        return e.error;
      }
      e.is_dir = d->d_type == DT_DIR;
    }
    entries.push_back(std::move(e));
  }
  std::sort(
      entries.begin(), entries.end(),
      [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  *out = std::move(entries);
  return 0;
}

WalkEntry MakeEntry(std::string rel, const DirEntry& e) {
  WalkEntry w;
  w.path = std::move(rel);
  const struct stat& st = e.st;
  if (S_ISREG(st.st_mode)) {
    w.type = FileType::kFile;
  } else if (S_ISDIR(st.st_mode)) {
    w.type = FileType::kDir;
  } else if (S_ISLNK(st.st_mode)) {
    w.type = FileType::kSymlink;
  } else {
    w.type = FileType::kOther;
  }
  w.stat.mode = st.st_mode;
  w.stat.uid = st.st_uid;
  w.stat.gid = st.st_gid;
  w.stat.size = st.st_size;
  w.stat.mtime_ns =
      int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  w.stat.ctime_ns =
      int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  w.stat.inode = st.st_ino;
  w.stat.device = st.st_dev;
  w.stat.nlink = st.st_nlink;
  w.stat.rdev = st.st_rdev;
  w.link_target = e.link_target;
  return w;
}

// fsutil's patternWithoutTrailingGlob.
std::string_view WithoutTrailingGlob(std::string_view p) {
  if (base::EndsWith(p, "/**")) p.remove_suffix(3);
  if (base::EndsWith(p, "/*")) p.remove_suffix(2);
  return p;
}

class Walker {
 public:
  Walker(std::string root, int root_fd, const PatternMatcher* excludes,
         const WalkCallback& callback)
      : root_(std::move(root)),
        root_fd_(root_fd),
        excludes_(excludes),
        callback_(callback) {
    // Entering excluded directories only where a '!' pattern points is an
    // optimization fsutil applies only when no '!' pattern has a wildcard.
    if (excludes_ != nullptr) {
      for (const Pattern& p : excludes_->patterns()) {
        if (p.exclusion() && WithoutTrailingGlob(p.str()).find_first_of(
                                 "*[]?^\\") != std::string_view::npos) {
          only_prefix_exceptions_ = false;
        }
      }
    }
  }

  base::Status Run() {
    Frame root;
    int err = List("", &root.entries);
    if (err != 0) return ListError("", err);
    stack_.push_back(std::move(root));
    while (!stack_.empty()) {
      Frame& top = stack_.back();
      if (top.next >= top.entries.size()) {
        stack_.pop_back();
        continue;
      }
      DirEntry entry = std::move(top.entries[top.next++]);
      STRATA_TRY(Visit(std::move(entry)));
    }
    return base::OkStatus();
  }

 private:
  base::Status Visit(DirEntry e);
  base::Status EnterExcluded(const DirEntry& e, std::string rel,
                             MatchInfo info);
  base::Status ReportParents();
  bool MayReincludeBelow(const std::string& rel) const;

  std::string FullPath(const std::string& rel) const {
    return rel.empty() ? root_ : base::StrCat(root_, "/", rel);
  }
  base::Error ListError(const std::string& rel, int err) const {
    return MakeError(Code::kIo, "open ", FullPath(rel), ": ",
                     base::ErrnoText(err));
  }
  // Lists `rel`; returns errno or 0.
  int List(const std::string& rel, std::vector<DirEntry>* out) const {
    int fd = OpenDirBeneath(root_fd_, rel);
    if (fd < 0) return errno;
    return ReadEntries(fd, out);
  }

  std::string root_;
  int root_fd_;
  const PatternMatcher* excludes_;
  const WalkCallback& callback_;
  bool only_prefix_exceptions_ = true;
  std::vector<Frame> stack_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks_;
};

bool Walker::MayReincludeBelow(const std::string& rel) const {
  if (!excludes_->exclusions()) return false;
  const std::string dir_slash = rel + "/";
  for (const Pattern& p : excludes_->patterns()) {
    if (!p.exclusion()) continue;
    std::string pat = base::StrCat(WithoutTrailingGlob(p.str()), "/");
    if (base::StartsWith(pat, dir_slash)) return true;
  }
  return false;
}

base::Status Walker::Visit(DirEntry e) {
  const Frame& parent = stack_.back();
  std::string rel = parent.rel.empty() ? e.name : parent.rel + "/" + e.name;
  bool excluded = false;
  MatchInfo info;
  if (excludes_ != nullptr) {
    base::Result<bool> m =
        excludes_->MatchesUsingParentResults(rel, parent.info, &info);
    if (!m) {
      return MakeError(Code::kParse, "failed to match excludepatterns: ",
                       m.error().message());
    }
    excluded = *m;
  }

  if (excluded) return EnterExcluded(e, std::move(rel), std::move(info));

  if (e.error != 0) {
    if (!IsNotExist(e.error)) {
      return MakeError(Code::kIo, e.failed_op, " ", FullPath(rel), ": ",
                       base::ErrnoText(e.error));
    }
    // fsutil turns "vanished" into SkipDir, which for a file also skips the
    // rest of its directory.
    if (!e.is_dir) stack_.back().next = stack_.back().entries.size();
    return base::OkStatus();
  }

  STRATA_TRY(ReportParents());
  WalkEntry entry = MakeEntry(rel, e);
  if (!e.is_dir && e.st.st_nlink > 1) {
    auto key = std::make_pair(uint64_t{e.st.st_dev}, uint64_t{e.st.st_ino});
    auto [it, inserted] = hardlinks_.emplace(key, rel);
    if (!inserted) entry.hardlink_to = it->second;
  }
  STRATA_TRY(callback_(entry));
  if (!e.is_dir) return base::OkStatus();

  Frame frame;
  int err = List(rel, &frame.entries);
  if (err != 0) {
    if (IsNotExist(err) || err == ELOOP) return base::OkStatus();
    return ListError(rel, err);
  }
  frame.rel = std::move(rel);
  frame.info = std::move(info);
  stack_.push_back(std::move(frame));
  return base::OkStatus();
}

// An excluded entry: left out, but a directory is still entered when a
// '!' pattern may re-include something below it. It is reported later, and
// only if that happens.
base::Status Walker::EnterExcluded(const DirEntry& e, std::string rel,
                                   MatchInfo info) {
  if (!e.is_dir || e.error != 0) return base::OkStatus();
  if (only_prefix_exceptions_ && !MayReincludeBelow(rel)) {
    return base::OkStatus();
  }
  Frame frame;
  int err = List(rel, &frame.entries);
  if (err != 0) {
    // fsutil ignores permission errors below excluded directories.
    if (err == EACCES || err == EPERM || IsNotExist(err) || err == ELOOP) {
      return base::OkStatus();
    }
    return ListError(rel, err);
  }
  frame.self = MakeEntry(rel, e);
  frame.rel = std::move(rel);
  frame.info = std::move(info);
  frame.reported = false;
  stack_.push_back(std::move(frame));
  return base::OkStatus();
}

// Reports the excluded directories above the current entry that were
// entered but not reported yet, outermost first.
base::Status Walker::ReportParents() {
  for (Frame& frame : stack_) {
    if (frame.reported) continue;
    frame.reported = true;
    STRATA_TRY(callback_(frame.self));
  }
  return base::OkStatus();
}

}  // namespace

base::Status WalkContext(const std::string& context_dir,
                         const WalkOptions& options,
                         const WalkCallback& callback) {
  std::unique_ptr<PatternMatcher> excludes;
  if (!options.exclude_patterns.empty()) {
    base::Result<PatternMatcher> pm =
        PatternMatcher::New(options.exclude_patterns);
    if (!pm) {
      return MakeError(Code::kParse, "invalid excludepatterns: [",
                       base::Join(options.exclude_patterns, " "),
                       "]: ", pm.error().message());
    }
    excludes = std::make_unique<PatternMatcher>(std::move(*pm));
  }

  // Like fsutil.NewFS: resolve symlinks leading to the root, then require a
  // directory.
  std::unique_ptr<char, decltype(&std::free)> real(
      ::realpath(context_dir.c_str(), nullptr), &std::free);
  if (!real) {
    return MakeError(Code::kIo, "resolve ", context_dir, ": ",
                     base::ErrnoText(errno));
  }
  std::string root = real.get();
  base::UniqueFd root_fd(
      ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return MakeError(Code::kIo, "open ", root, ": ", base::ErrnoText(errno));
  }
  Walker walker(root, root_fd.get(), excludes.get(), callback);
  return walker.Run();
}

}  // namespace strata::context
