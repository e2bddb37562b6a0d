#include "layer/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>
#include <vector>

#include "base/file.h"
#include "layer/owner_xattr.h"
#include "layer/root_fs.h"

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr std::string_view kCapabilityXattr = "security.capability";

// Overlay's own xattrs, and strata's owner record (owner_xattr.h).
bool IsOverlayXattr(std::string_view name) {
  return base::StartsWith(name, "trusted.overlay.") ||
         base::StartsWith(name, "user.overlay.") || IsOwnerXattr(name);
}

base::Error Errno(std::string_view what, const std::string& path) {
  return MakeError(errno == ENOENT ? Code::kNotFound : Code::kIo, what, " ",
                   path, ": ", base::ErrnoText(errno));
}

// The value of xattr `name` on `path` (not following symlinks); nullopt
// when it is absent or cannot be read.
Result<std::optional<std::string>> GetXattr(const std::string& path,
                                            const char* name) {
  std::string value(256, '\0');
  while (true) {
    ssize_t n = ::lgetxattr(path.c_str(), name, value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      return std::optional<std::string>(std::move(value));
    }
    if (errno == ERANGE) {
      ssize_t want = ::lgetxattr(path.c_str(), name, nullptr, 0);
      if (want < 0) return Errno("reading xattrs of", path);
      value.assign(static_cast<size_t>(want) + 1, '\0');
      continue;
    }
    if (errno == ENODATA || errno == ENOTSUP || errno == EPERM ||
        errno == EACCES) {
      return std::optional<std::string>();
    }
    return Errno("reading xattrs of", path);
  }
}

Result<std::vector<Xattr>> ReadXattrs(const std::string& path,
                                      XattrPolicy policy) {
  std::vector<Xattr> out;
  if (policy == XattrPolicy::kNone) return out;
  if (policy == XattrPolicy::kCapabilityOnly) {
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> cap,
                            GetXattr(path, kCapabilityXattr.data()));
    if (cap && !cap->empty()) {
      out.push_back({std::string(kCapabilityXattr), std::move(*cap)});
    }
    return out;
  }
  std::string names;
  while (true) {
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENOTSUP) return out;
      return Errno("listing xattrs of", path);
    }
    names.assign(static_cast<size_t>(size), '\0');
    ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE) return Errno("listing xattrs of", path);
  }
  for (size_t start = 0; start < names.size();) {
    size_t end = names.find('\0', start);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty() || IsOverlayXattr(name)) continue;
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            GetXattr(path, name.c_str()));
    if (value) out.push_back({std::move(name), std::move(*value)});
  }
  std::sort(out.begin(), out.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

bool IsOpaqueDir(const std::string& path) {
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    Result<std::optional<std::string>> v = GetXattr(path, name);
    if (v && *v && **v == "y") return true;
  }
  return false;
}

// One name of a directory being walked.
struct Item {
  std::string key;   // the tar name it sorts by
  std::string name;  // the file name on disk
  struct stat st;
  bool whiteout = false;
};

class Walker {
 public:
  Walker(LayerWriter& writer, const DirectoryOptions& options)
      : writer_(writer), options_(options) {}

  Status Walk(const std::string& fs_dir, const std::string& layer_dir);
  const DirectoryStats& stats() const { return stats_; }

 private:
  Status AddItem(const Item& item, const std::string& fs_path,
                 const std::string& layer_path);
  Status AddNonDirectory(Entry e, const struct stat& st,
                         const std::string& fs_path);

  LayerWriter& writer_;
  const DirectoryOptions& options_;
  DirectoryStats stats_;
  std::map<std::pair<dev_t, ino_t>, std::string> first_links_;
};

Status Walker::Walk(const std::string& fs_dir, const std::string& layer_dir) {
  base::UniqueFd fd(
      ::open(fs_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Errno("opening", fs_dir);
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          internal::ListDirAt(fd.get()));
  std::vector<Item> items;
  for (std::string& name : names) {
    Item item;
    if (::fstatat(fd.get(), name.c_str(), &item.st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Errno("inspecting", fs_dir + "/" + name);
    }
    if (S_ISSOCK(item.st.st_mode)) {
      ++stats_.skipped;
      continue;
    }
    item.whiteout = options_.convert_overlay_whiteouts &&
                    S_ISCHR(item.st.st_mode) && item.st.st_rdev == 0;
    item.key = item.whiteout ? base::StrCat(kWhiteoutPrefix, name) : name;
    item.name = std::move(name);
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.key < b.key; });
  for (const Item& item : items) {
    std::string fs_path = base::StrCat(fs_dir, "/", item.name);
    std::string layer_path =
        layer_dir.empty() ? item.name : base::StrCat(layer_dir, "/", item.name);
    STRATA_TRY(AddItem(item, fs_path, layer_path));
  }
  return base::OkStatus();
}

Status Walker::AddItem(const Item& item, const std::string& fs_path,
                       const std::string& layer_path) {
  if (item.whiteout) {
    ++stats_.entries;
    ++stats_.whiteouts;
    auto [dir, name] = SplitParent(layer_path);
    return writer_.AddWhiteout(dir, name);
  }
  const struct stat& st = item.st;
  Entry e;
  e.path = layer_path;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  ReadOwner(fs_path, &e.uid, &e.gid);  // rootless: the ids inside
  e.mtime = {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  STRATA_ASSIGN_OR_RETURN(e.xattrs, ReadXattrs(fs_path, options_.xattrs));
  ++stats_.entries;
  if (S_ISDIR(st.st_mode)) {
    e.type = EntryType::kDirectory;
    STRATA_TRY(writer_.Add(e));
    if (options_.convert_overlay_whiteouts && IsOpaqueDir(fs_path)) {
      ++stats_.entries;
      ++stats_.whiteouts;
      STRATA_TRY(writer_.AddOpaqueWhiteout(layer_path));
    }
    return Walk(fs_path, layer_path);
  }
  return AddNonDirectory(std::move(e), st, fs_path);
}

Status Walker::AddNonDirectory(Entry e, const struct stat& st,
                               const std::string& fs_path) {
  if (st.st_nlink > 1) {
    auto [it, first] = first_links_.try_emplace({st.st_dev, st.st_ino}, e.path);
    if (!first) {
      e.type = EntryType::kHardlink;
      e.link_target = it->second;
      return writer_.Add(e);
    }
  }
  if (S_ISREG(st.st_mode)) {
    e.type = EntryType::kRegular;
    e.size = st.st_size;
    return writer_.AddFileFromPath(e, fs_path);
  }
  if (S_ISLNK(st.st_mode)) {
    e.type = EntryType::kSymlink;
    e.link_target.assign(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n =
        ::readlink(fs_path.c_str(), e.link_target.data(), e.link_target.size());
    if (n < 0) return Errno("reading symlink", fs_path);
    if (static_cast<size_t>(n) >= e.link_target.size()) {
      return MakeError(Code::kIo, fs_path, ": symlink changed while read");
    }
    e.link_target.resize(static_cast<size_t>(n));
    return writer_.Add(e);
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    e.type =
        S_ISCHR(st.st_mode) ? EntryType::kCharDevice : EntryType::kBlockDevice;
    e.dev_major = major(st.st_rdev);
    e.dev_minor = minor(st.st_rdev);
    return writer_.Add(e);
  }
  if (S_ISFIFO(st.st_mode)) {
    e.type = EntryType::kFifo;
    return writer_.Add(e);
  }
  return MakeError(Code::kUnsupported, fs_path, ": unsupported file type");
}

}  // namespace

Result<DirectoryStats> WriteDirectoryLayer(const std::string& dir,
                                           LayerWriter& writer,
                                           const DirectoryOptions& options) {
  std::string prefix;
  if (!options.prefix.empty()) {
    std::string_view p = options.prefix;
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    if (!p.empty()) {
      STRATA_ASSIGN_OR_RETURN(prefix, ValidateEntryPath(p));
    }
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return Errno("inspecting", dir);
  if (!S_ISDIR(st.st_mode)) {
    return MakeError(Code::kInvalidArgument, dir, ": not a directory");
  }
  Walker walker(writer, options);
  STRATA_TRY(walker.Walk(dir, prefix));
  return walker.stats();
}

}  // namespace strata::layer
