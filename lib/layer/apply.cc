#include "layer/apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer/apply_internal.h"
#include "layer/entry.h"
#include "layer/root_fs.h"
#include "layer/view.h"

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace internal {

namespace {

constexpr size_t kReadChunk = 256 << 10;
constexpr size_t kMaxWarningMessages = 32;

// Hashes and counts the uncompressed tar while libarchive pulls it.
struct TarInput {
  base::Source* source = nullptr;
  base::Sha256 hash;
  int64_t size = 0;
  std::vector<uint8_t> buffer;
  std::optional<base::Error> error;

  Result<size_t> Pull() {
    Result<size_t> n = source->Read(buffer);
    if (n && *n > 0) {
      hash.Update(std::span<const uint8_t>(buffer.data(), *n));
      size += static_cast<int64_t>(*n);
    }
    return n;
  }

  static la_ssize_t Callback(archive* a, void* client, const void** out) {
    auto* self = static_cast<TarInput*>(client);
    Result<size_t> n = self->Pull();
    if (!n) {
      self->error = n.error();
      archive_set_error(a, EIO, "%s", n.error().ToString().c_str());
      return -1;
    }
    *out = self->buffer.data();
    return static_cast<la_ssize_t>(*n);
  }
};

std::string JoinPath(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : base::StrCat(dir, "/", name);
}

}  // namespace

Applier::Applier(int root_fd, const ApplyOptions& options, ApplyStats* stats)
    : root_fd_(root_fd), options_(options), stats_(stats) {
  chown_ = options.ownership == Ownership::kKeep ||
           (options.ownership == Ownership::kAuto && ::geteuid() == 0);
}

void Applier::Warn(std::string message) {
  ++stats_->warnings;
  if (stats_->warning_messages.size() < kMaxWarningMessages) {
    stats_->warning_messages.push_back(std::move(message));
  }
}

std::string Applier::OverlayXattr(std::string_view what) const {
  return base::StrCat(options_.overlay_user_xattrs ? "user" : "trusted",
                      ".overlay.", what);
}

Status Applier::Apply(archive* a, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) return MakeError(Code::kParse, "tar entry has no name");
  ++stats_->entries;
  Result<std::string> cleaned = CleanLayerPath(raw);
  if (!cleaned) return std::move(cleaned).error();
  std::string& path = *cleaned;
  if (path.empty()) return base::OkStatus();  // "./": containerd skips it
  // AUFS metadata at the top (.wh..wh.plnk/..., .wh..wh.aufs): skipped, as
  // containerd does.
  if (base::StartsWith(path, kWhiteoutMetaPrefix) && path != kOpaqueWhiteout) {
    return base::OkStatus();
  }
  auto [parent, name] = SplitParent(path);
  if (base::StartsWith(name, kWhiteoutPrefix)) {
    if (name == kOpaqueWhiteout) return Opaque(parent, e);
    // Other ".wh..wh." names are AUFS metadata, meaningless here.
    if (base::StartsWith(name, kWhiteoutMetaPrefix)) return base::OkStatus();
    return Whiteout(parent, name.substr(kWhiteoutPrefix.size()), e);
  }
  if (!whiteouts_.empty()) STRATA_TRY(ReviveWhiteouts(parent));
  STRATA_ASSIGN_OR_RETURN(UniqueFd parent_fd, MkdirAllInRoot(root_fd_, parent));
  bool over_whiteout = whiteouts_.erase(path) > 0;
  STRATA_TRY(Create(path, parent_fd.get(), std::string(name), a, e));
  // OCI: this layer's whiteout hid the lower layers' entry; a directory
  // put there merges with it in overlayfs unless it is opaque.
  if (over_whiteout && archive_entry_hardlink(e) == nullptr &&
      archive_entry_filetype(e) == AE_IFDIR) {
    STRATA_TRY(HideLowerBelow(path));
  }
  unpacked_.insert(std::move(path));
  return base::OkStatus();
}

bool Applier::WroteAtOrBelow(const std::string& path) const {
  if (unpacked_.contains(path)) return true;
  std::string below = path + "/";
  auto it = unpacked_.lower_bound(below);
  return it != unpacked_.end() && base::StartsWith(*it, below);
}

bool Applier::UnderWhiteout(std::string_view path) const {
  if (whiteouts_.empty()) return false;
  for (size_t end = path.find('/');; end = path.find('/', end + 1)) {
    if (whiteouts_.contains(std::string(path.substr(0, end)))) return true;
    if (end == std::string_view::npos) return false;
  }
}

Status Applier::Whiteout(std::string_view parent, std::string_view name,
                         archive_entry* e) {
  if (name.empty() || name == "." || name == "..") {
    return MakeError(Code::kInvalidArgument, "invalid whiteout name \"",
                     kWhiteoutPrefix, name, "\"");
  }
  std::string path = JoinPath(parent, name);
  // OCI: a whiteout hides what lower layers have, never this layer's own
  // entries, wherever it sits among them; below a directory this layer
  // wrote, the lower layers' content is hidden.
  if (WroteAtOrBelow(path)) return HideLowerBelow(path);
  if (options_.mode == ApplyMode::kOverlay) {
    // Below a name this layer whited out, everything is hidden already
    // (merge mode finds nothing there to remove).
    if (UnderWhiteout(parent)) return base::OkStatus();
    STRATA_ASSIGN_OR_RETURN(UniqueFd parent_fd,
                            MkdirAllInRoot(root_fd_, parent));
    STRATA_TRY(OverlayWhiteout(parent_fd.get(), std::string(name), OwnerOf(e)));
    whiteouts_.insert(std::move(path));
    return base::OkStatus();
  }
  Result<UniqueFd> parent_fd = OpenDirInRoot(root_fd_, parent);
  if (!parent_fd) {
    // Nothing below to delete.
    if (parent_fd.error().code() == Code::kNotFound) return base::OkStatus();
    return std::move(parent_fd).error();
  }
  return RemoveAllAt(parent_fd->get(), std::string(name));
}

Status Applier::OverlayWhiteout(int parent_fd, const std::string& name,
                                Owner owner) {
  STRATA_TRY(RemoveAllAt(parent_fd, name));
  bool xattr_form = options_.overlay_xattr_whiteouts;
  if (!xattr_form) {
    if (::mknodat(parent_fd, name.c_str(), S_IFCHR, makedev(0, 0)) == 0) {
      return ChownTo(parent_fd, name, -1, owner);
    }
    if (errno != EPERM) {
      return MakeError(Code::kIo, "creating whiteout ", name, ": ",
                       base::ErrnoText(errno));
    }
    xattr_form = true;  // no CAP_MKNOD (and a kernel before 5.8)
  }
  // Owner-writable until the xattr is on: setting a user.* xattr needs
  // write permission, which mode 0 denies to all but root.
  UniqueFd fd(::openat(parent_fd, name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
  if (!fd.valid()) {
    return MakeError(Code::kIo, "creating whiteout ", name, ": ",
                     base::ErrnoText(errno));
  }
  std::string whiteout = OverlayXattr("whiteout");
  std::string opaque = OverlayXattr("opaque");
  if (::fsetxattr(fd.get(), whiteout.c_str(), "y", 1, 0) != 0) {
    return MakeError(Code::kIo, "setting ", whiteout, " on ", name, ": ",
                     base::ErrnoText(errno));
  }
  // overlayfs only looks for xattr whiteouts in directories marked "x";
  // a directory already opaque ("y") hides the lower entries anyway.
  UniqueFd dir(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  char value[2] = {};
  bool opaque_already =
      dir.valid() &&
      ::fgetxattr(dir.get(), opaque.c_str(), value, sizeof(value)) == 1 &&
      value[0] == 'y';
  if (!opaque_already && (!dir.valid() || ::fsetxattr(dir.get(), opaque.c_str(),
                                                      "x", 1, 0) != 0)) {
    return MakeError(Code::kIo, "setting ", opaque, " next to whiteout ", name,
                     ": ", base::ErrnoText(errno));
  }
  ++stats_->xattr_whiteouts;
  STRATA_TRY(ChownTo(parent_fd, name, fd.get(), owner));
  // Mode 0, as the device form has.
  if (::fchmod(fd.get(), 0) != 0) {
    return MakeError(Code::kIo, "chmod whiteout ", name, ": ",
                     base::ErrnoText(errno));
  }
  return base::OkStatus();
}

Status Applier::Opaque(std::string_view dir, archive_entry* e) {
  if (options_.mode == ApplyMode::kOverlay && dir.empty()) {
    // overlayfs ignores "opaque" on a lower dir's root: the lower layers'
    // names are whited out one by one once the layer is complete.
    if (!options_.lower_dirs) {
      return MakeError(
          Code::kUnsupported,
          "opaque marker at the layer root (.wh..wh..opq) in overlay mode "
          "needs ApplyOptions::lower_dirs: overlayfs ignores an opaque lower "
          "root, so each name of the lower layers must be whited out");
    }
    root_opaque_ = true;
    root_opaque_owner_ = OwnerOf(e);
    return base::OkStatus();
  }
  if (!whiteouts_.empty()) STRATA_TRY(ReviveWhiteouts(dir));
  STRATA_ASSIGN_OR_RETURN(UniqueFd dir_fd, MkdirAllInRoot(root_fd_, dir));
  if (options_.mode == ApplyMode::kOverlay) {
    return MarkOpaque(dir_fd.get(), dir);
  }
  return RemoveLower(dir_fd.get(), std::string(dir));
}

Status Applier::MarkOpaque(int dir_fd, std::string_view dir) {
  std::string opaque = OverlayXattr("opaque");
  UniqueFd fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsetxattr(fd.get(), opaque.c_str(), "y", 1, 0) != 0) {
    return MakeError(Code::kIo, "setting ", opaque, " on \"", dir,
                     "\": ", base::ErrnoText(errno));
  }
  return base::OkStatus();
}

// Hides what the lower layers have below `path`, which this layer wrote
// (or wrote below) and so keeps: merge mode removes the rest of its
// content, overlay mode makes it opaque. A non-directory hides the lower
// entry by itself.
Status Applier::HideLowerBelow(const std::string& path) {
  auto [parent, name] = SplitParent(path);
  STRATA_ASSIGN_OR_RETURN(UniqueFd parent_fd, OpenDirInRoot(root_fd_, parent));
  UniqueFd dir(::openat(parent_fd.get(), std::string(name).c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    if (errno == ENOTDIR || errno == ELOOP || errno == ENOENT) {
      return base::OkStatus();
    }
    return MakeError(Code::kIo, "opening directory ", path, ": ",
                     base::ErrnoText(errno));
  }
  if (options_.mode == ApplyMode::kOverlay) return MarkOpaque(dir.get(), path);
  return RemoveLower(dir.get(), path);
}

// The opaque marker at the root, in overlay mode: every name the lower
// layers show at the top is whited out, but for what this layer wrote
// there, whose directories become opaque. As in merge mode, whatever the
// marker's place among the layer's entries.
Status Applier::HideLowerAtRoot() {
  if (!root_opaque_) return base::OkStatus();
  stats_->depends_on_lower_dirs = true;
  LayeredView lowers(*options_.lower_dirs);
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, lowers.ReadDir("/"));
  for (const std::string& name : names) {
    if (whiteouts_.contains(name)) continue;
    struct stat st;
    if (WroteAtOrBelow(name) &&
        ::fstatat(root_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      STRATA_TRY(HideLowerBelow(name));
      continue;
    }
    // Not written, or only an implicit directory holding whiteouts.
    STRATA_TRY(OverlayWhiteout(root_fd_, name, root_opaque_owner_));
    whiteouts_.insert(name);
  }
  return base::OkStatus();
}

// Entries at or below a name this layer whited out (".wh.d", then "d/x"
// or "d/.wh..wh..opq"): merge mode creates a fresh directory there, so the
// whiteout becomes an opaque directory, which hides the lower d likewise.
Status Applier::ReviveWhiteouts(std::string_view path) {
  for (size_t end = path.find('/');; end = path.find('/', end + 1)) {
    std::string prefix(path.substr(0, end));
    if (whiteouts_.erase(prefix) > 0) {
      auto [parent, name] = SplitParent(prefix);
      STRATA_ASSIGN_OR_RETURN(UniqueFd parent_fd,
                              OpenDirInRoot(root_fd_, parent));
      STRATA_TRY(RemoveAllAt(parent_fd.get(), std::string(name)));
      STRATA_ASSIGN_OR_RETURN(UniqueFd dir, MkdirAllInRoot(root_fd_, prefix));
      STRATA_TRY(MarkOpaque(dir.get(), prefix));
    }
    if (end == std::string_view::npos) return base::OkStatus();
  }
}

// Removes what is below `dir` and was not unpacked by this layer; descends
// into this layer's directories (named or implied by its entries), whose
// lower content is hidden too.
Status Applier::RemoveLower(int dir_fd, const std::string& dir) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirAt(dir_fd));
  for (const std::string& name : names) {
    std::string path = JoinPath(dir, name);
    if (!WroteAtOrBelow(path)) {
      STRATA_TRY(RemoveAllAt(dir_fd, name));
      continue;
    }
    UniqueFd child(::openat(dir_fd, name.c_str(),
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (child.valid()) STRATA_TRY(RemoveLower(child.get(), path));
  }
  return base::OkStatus();
}

Status Applier::Finish() {
  Status hidden = HideLowerAtRoot();
  if (!hidden) {
    return std::move(hidden).error().WithContext(
        "whiting out the lower layers for the opaque marker at the root");
  }
  return FinishDirectories();
}

Status Applier::FinishDirectories() {
  for (const DirFixup& d : dirs_) {
    auto [parent, name] = SplitParent(d.path);
    Result<UniqueFd> parent_fd = OpenDirInRoot(root_fd_, parent);
    if (!parent_fd) continue;  // removed by a later whiteout
    UniqueFd fd(::openat(parent_fd->get(), std::string(name).c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) continue;  // removed or replaced by a later entry
    if (::fchmod(fd.get(), d.mode) != 0 || ::futimens(fd.get(), d.times) != 0) {
      return MakeError(Code::kIo, "setting mode/mtime of ", d.path, ": ",
                       base::ErrnoText(errno));
    }
  }
  return base::OkStatus();
}

}  // namespace internal

namespace {

Status ReadEntries(archive* a, internal::TarInput* input,
                   internal::Applier* applier) {
  while (true) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) return base::OkStatus();
    // ARCHIVE_WARN: a name libarchive could not convert to the locale; the
    // raw bytes are still there.
    if (r < ARCHIVE_WARN) {
      if (input->error) return *input->error;
      return MakeError(Code::kParse,
                       "reading layer tar: ", internal::ArchiveErrorText(a));
    }
    Status s = applier->Apply(a, e);
    if (!s) {
      if (input->error) return *input->error;
      const char* name = archive_entry_pathname(e);
      return std::move(s).error().WithContext(
          base::StrCat("layer entry \"", name ? name : "", "\""));
    }
  }
}

}  // namespace

Result<ApplyStats> ApplyLayer(base::Source& blob, const std::string& root,
                              const ApplyOptions& options) {
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return MakeError(errno == ENOENT ? Code::kNotFound : Code::kIo, root, ": ",
                     base::ErrnoText(errno));
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DecompressingSource> source,
                          DecompressingSource::Open(&blob));
  ApplyStats stats;
  stats.compression = source->compression();
  internal::TarInput input;
  input.source = source.get();
  input.buffer.resize(internal::kReadChunk);

  internal::ScopedUtf8Locale utf8;
  internal::ArchiveReadPtr a(archive_read_new());
  if (!a) return MakeError(Code::kInternal, "archive_read_new");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  if (archive_read_open(a.get(), &input, nullptr, &internal::TarInput::Callback,
                        nullptr) != ARCHIVE_OK) {
    if (input.error) return *input.error;
    return MakeError(Code::kParse, "reading layer tar: ",
                     internal::ArchiveErrorText(a.get()));
  }
  internal::Applier applier(root_fd.get(), options, &stats);
  STRATA_TRY(ReadEntries(a.get(), &input, &applier));
  STRATA_TRY(applier.Finish());
  // The tar may be followed by padding libarchive never asked for; the
  // diffID covers the whole stream.
  while (true) {
    STRATA_ASSIGN_OR_RETURN(size_t n, input.Pull());
    if (n == 0) break;
  }
  stats.uncompressed_size = input.size;
  stats.diff_id = input.hash.Finish();
  if (options.expected_diff_id && *options.expected_diff_id != stats.diff_id) {
    return MakeError(Code::kDigestMismatch, "layer diffID mismatch: expected ",
                     options.expected_diff_id->ToString(), ", got ",
                     stats.diff_id.ToString());
  }
  return stats;
}

}  // namespace strata::layer
