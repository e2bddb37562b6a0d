#include "layer/writer.h"

#include <fcntl.h>

#include <algorithm>

#include "base/file.h"
#include "layer/archive_util.h"

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr size_t kChunk = 1 << 20;

mode_t FileTypeBits(EntryType type) {
  switch (type) {
    case EntryType::kRegular:
    case EntryType::kHardlink:
      return AE_IFREG;
    case EntryType::kDirectory:
      return AE_IFDIR;
    case EntryType::kSymlink:
      return AE_IFLNK;
    case EntryType::kCharDevice:
      return AE_IFCHR;
    case EntryType::kBlockDevice:
      return AE_IFBLK;
    case EntryType::kFifo:
      return AE_IFIFO;
  }
  return AE_IFREG;
}

// Checks the fields WriteHeader cannot express or that would make a broken
// layer; returns the cleaned path.
Result<std::string> CheckEntry(const Entry& e) {
  STRATA_ASSIGN_OR_RETURN(std::string path, ValidateEntryPath(e.path));
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument, "layer entry \"", e.path,
                     "\": ", why);
  };
  if (e.type != EntryType::kDirectory && e.path.back() == '/') {
    return bad("only directories may end in '/'");
  }
  if ((e.mode & ~07777u) != 0) return bad("mode has bits outside 07777");
  if (e.uid < 0 || e.gid < 0) return bad("negative uid or gid");
  if (e.mtime.nsec < 0 || e.mtime.nsec > 999999999) {
    return bad("mtime nanoseconds out of range");
  }
  if (e.size < 0 || (e.type != EntryType::kRegular && e.size != 0)) {
    return bad("size must be 0 except for regular files");
  }
  if (e.type == EntryType::kSymlink && e.link_target.empty()) {
    return bad("empty symlink target");
  }
  for (const Xattr& x : e.xattrs) {
    if (x.name.empty() || x.name.find('\0') != std::string::npos ||
        x.name.find('=') != std::string::npos) {
      return bad("invalid xattr name");
    }
  }
  return path;
}

}  // namespace

void LayerWriter::ArchiveDeleter::operator()(archive* a) const {
  archive_write_free(a);
}

LayerWriter::LayerWriter(base::Sink* out, const WriterOptions& options)
    : options_(options), compressed_(out) {}

LayerWriter::~LayerWriter() {
  // Dropped without Finish(): libarchive would flush the end of the tar on
  // free; the caller's sink may be gone, and the blob is abandoned anyway.
  discarding_ = true;
  archive_.reset();
}

Result<std::unique_ptr<LayerWriter>> LayerWriter::Create(
    base::Sink* out, const WriterOptions& options) {
  STRATA_CHECK(out != nullptr);
  STRATA_TRY(LayerMediaType(options.compression.compression));
  std::unique_ptr<LayerWriter> w(new LayerWriter(out, options));
  STRATA_ASSIGN_OR_RETURN(
      w->compressor_, NewCompressingSink(&w->compressed_, options.compression));
  w->tar_.emplace(w->compressor_.get());
  STRATA_TRY(w->Open());
  return w;
}

Status LayerWriter::Open() {
  archive_.reset(archive_write_new());
  archive* a = archive_.get();
  if (a == nullptr) return MakeError(Code::kInternal, "archive_write_new");
  // Full pax only adds the mtime record for sub-second times here: no
  // atime/ctime are ever set on our entries.
  int r = options_.subsecond_mtime ? archive_write_set_format_pax(a)
                                   : archive_write_set_format_pax_restricted(a);
  if (r != ARCHIVE_OK ||
      archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY") !=
          ARCHIVE_OK ||
      archive_write_add_filter_none(a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open(a, this, nullptr, &LayerWriter::WriteCallback,
                         nullptr) != ARCHIVE_OK) {
    return Fail(ArchiveFailure("starting tar"));
  }
  return base::OkStatus();
}

ssize_t LayerWriter::WriteCallback(archive* a, void* client, const void* buffer,
                                   size_t length) {
  auto* self = static_cast<LayerWriter*>(client);
  if (self->discarding_) return static_cast<ssize_t>(length);
  Status s =
      self->tar_->Write(std::span(static_cast<const uint8_t*>(buffer), length));
  if (!s) {
    self->sink_error_ = s.error();
    archive_set_error(a, EIO, "%s", s.error().ToString().c_str());
    return -1;
  }
  return static_cast<ssize_t>(length);
}

base::Error LayerWriter::ArchiveFailure(std::string_view what) {
  if (sink_error_) return *sink_error_;
  return MakeError(Code::kInternal, what, ": ",
                   internal::ArchiveErrorText(archive_.get()));
}

Status LayerWriter::Fail(base::Error error) {
  failed_ = true;
  return error;
}

Status LayerWriter::CheckUsable() const {
  if (finished_) return MakeError(Code::kInternal, "layer already finished");
  if (failed_) {
    return MakeError(Code::kInternal, "layer writer failed earlier");
  }
  return base::OkStatus();
}

Status LayerWriter::WriteHeader(const Entry& e) {
  STRATA_TRY(CheckUsable());
  STRATA_ASSIGN_OR_RETURN(std::string path, CheckEntry(e));
  if (e.type == EntryType::kHardlink) {
    STRATA_ASSIGN_OR_RETURN(std::string target,
                            ValidateEntryPath(e.link_target));
    if (!link_targets_.contains(target)) {
      return MakeError(Code::kInvalidArgument, "hardlink \"", e.path,
                       "\": target \"", e.link_target,
                       "\" is not an earlier entry of this layer");
    }
  }
  Timestamp mtime = e.mtime;
  if (options_.source_date_epoch &&
      mtime > Timestamp{*options_.source_date_epoch, 0}) {
    mtime = {*options_.source_date_epoch, 0};
  }
  if (!options_.subsecond_mtime) mtime.nsec = 0;

  internal::ArchiveEntryPtr entry(archive_entry_new());
  archive_entry* ae = entry.get();
  archive_entry_set_pathname(
      ae, (e.type == EntryType::kDirectory ? path + "/" : path).c_str());
  archive_entry_set_filetype(ae, FileTypeBits(e.type));
  archive_entry_set_perm(ae, e.mode);
  archive_entry_set_uid(ae, e.uid);
  archive_entry_set_gid(ae, e.gid);
  archive_entry_set_mtime(ae, mtime.sec, mtime.nsec);
  archive_entry_set_size(ae, e.size);
  if (e.type == EntryType::kSymlink) {
    archive_entry_set_symlink(ae, e.link_target.c_str());
  } else if (e.type == EntryType::kHardlink) {
    archive_entry_set_hardlink(ae, e.link_target.c_str());
  } else if (e.type == EntryType::kCharDevice ||
             e.type == EntryType::kBlockDevice) {
    archive_entry_set_rdevmajor(ae, e.dev_major);
    archive_entry_set_rdevminor(ae, e.dev_minor);
  }
  std::vector<const Xattr*> xattrs;
  for (const Xattr& x : e.xattrs) xattrs.push_back(&x);
  std::sort(xattrs.begin(), xattrs.end(),
            [](const Xattr* a, const Xattr* b) { return a->name < b->name; });
  for (const Xattr* x : xattrs) {
    archive_entry_xattr_add_entry(ae, x->name.c_str(), x->value.data(),
                                  x->value.size());
  }
  // ARCHIVE_WARN only reports a name that is not valid UTF-8 (written as
  // raw bytes with hdrcharset=BINARY); the entry itself is complete.
  if (archive_write_header(archive_.get(), ae) < ARCHIVE_WARN) {
    return Fail(ArchiveFailure(base::StrCat("writing header of ", path)));
  }
  ++entry_count_;
  if (e.type != EntryType::kDirectory) link_targets_.insert(std::move(path));
  return base::OkStatus();
}

Status LayerWriter::WriteData(std::span<const uint8_t> data) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(archive_.get(), data.data(), data.size());
    if (n <= 0) return Fail(ArchiveFailure("writing file data"));
    data = data.subspan(static_cast<size_t>(n));
  }
  return base::OkStatus();
}

Status LayerWriter::Add(const Entry& entry) {
  internal::ScopedUtf8Locale utf8;
  if (entry.type == EntryType::kRegular && entry.size != 0) {
    return MakeError(Code::kInvalidArgument, "layer entry \"", entry.path,
                     "\": regular files with content need AddFile");
  }
  return WriteHeader(entry);
}

Status LayerWriter::AddFile(const Entry& entry, base::Source& content) {
  internal::ScopedUtf8Locale utf8;
  if (entry.type != EntryType::kRegular) {
    return MakeError(Code::kInvalidArgument, "layer entry \"", entry.path,
                     "\": AddFile needs a regular file");
  }
  STRATA_TRY(WriteHeader(entry));
  return WriteContent(entry, content);
}

Status LayerWriter::WriteContent(const Entry& entry, base::Source& content) {
  if (buffer_.empty()) buffer_.resize(kChunk);
  int64_t total = 0;
  while (true) {
    Result<size_t> n = content.Read(buffer_);
    if (!n) return Fail(std::move(n).error());
    if (*n == 0) break;
    total += static_cast<int64_t>(*n);
    if (total > entry.size) {
      return Fail(MakeError(Code::kIo, entry.path, ": content is longer than ",
                            entry.size, " bytes (file changed?)"));
    }
    STRATA_TRY(WriteData(std::span(buffer_.data(), *n)));
  }
  if (total != entry.size) {
    return Fail(MakeError(Code::kIo, entry.path, ": content is ", total,
                          " bytes, expected ", entry.size, " (file changed?)"));
  }
  return base::OkStatus();
}

Status LayerWriter::AddFileFromPath(const Entry& entry,
                                    const std::string& path) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return MakeError(err == ENOENT ? Code::kNotFound : Code::kIo, path, ": ",
                     base::ErrnoText(err));
  }
  // The kernel may read ahead further; it does not change memory use.
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  base::FdSource source(std::move(fd), path);
  return AddFile(entry, source);
}

Status LayerWriter::AddMarker(std::string_view dir, std::string_view name) {
  Entry e;
  e.path = dir.empty() ? std::string(name) : base::StrCat(dir, "/", name);
  e.mode = 0;
  e.mtime = {options_.source_date_epoch.value_or(0), 0};
  internal::ScopedUtf8Locale utf8;
  return WriteHeader(e);
}

Status LayerWriter::AddWhiteout(std::string_view dir, std::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find('/') != std::string_view::npos) {
    return MakeError(Code::kInvalidArgument, "invalid whiteout name \"", name,
                     "\"");
  }
  return AddMarker(dir, base::StrCat(kWhiteoutPrefix, name));
}

Status LayerWriter::AddOpaqueWhiteout(std::string_view dir) {
  return AddMarker(dir, kOpaqueWhiteout);
}

Result<LayerInfo> LayerWriter::Finish() {
  STRATA_TRY(CheckUsable());
  internal::ScopedUtf8Locale utf8;
  finished_ = true;
  if (archive_write_close(archive_.get()) != ARCHIVE_OK) {
    return ArchiveFailure("ending tar");
  }
  STRATA_TRY(tar_->Close());
  LayerInfo info;
  info.diff_id = tar_->Finish();
  info.uncompressed_size = tar_->size();
  info.digest = compressed_.Finish();
  info.size = compressed_.size();
  STRATA_ASSIGN_OR_RETURN(info.media_type,
                          LayerMediaType(options_.compression.compression));
  return info;
}

}  // namespace strata::layer
