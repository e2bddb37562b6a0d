#include "build/archive_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "base/str.h"
#include "layer/compression.h"

namespace strata::build {
namespace {

using base::Code;
using base::MakeError;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// libarchive converts PAX UTF-8 names to the current locale; under "C" a
// non-ASCII name would not convert. C.UTF-8 keeps names as written (the
// layer writer does the same).
class ScopedUtf8 {
 public:
  ScopedUtf8() {
    static locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", nullptr);
    if (loc != nullptr) previous_ = uselocale(loc);
  }
  ~ScopedUtf8() {
    if (previous_ != nullptr) uselocale(previous_);
  }
  ScopedUtf8(const ScopedUtf8&) = delete;
  ScopedUtf8& operator=(const ScopedUtf8&) = delete;

 private:
  locale_t previous_ = nullptr;
};

// Feeds libarchive from a Source (libarchive sees plain tar: the
// decompression is DecompressingSource's).
struct Feed {
  base::Source* source = nullptr;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(64 * 1024);
  std::optional<base::Error> error;
};

la_ssize_t OnRead(archive* a, void* client, const void** out) {
  auto* feed = static_cast<Feed*>(client);
  base::Result<size_t> n = feed->source->Read(feed->buffer);
  if (!n) {
    feed->error = std::move(n).error();
    archive_set_error(a, EIO, "read failed");
    return -1;
  }
  *out = feed->buffer.data();
  return static_cast<la_ssize_t>(*n);
}

std::string ErrorText(archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr && *text != '\0' ? text : "corrupt tar archive";
}

base::Result<ArchivePtr> OpenTar(Feed* feed) {
  ArchivePtr a(archive_read_new());
  if (!a) return MakeError(Code::kInternal, "archive_read_new failed");
  archive_read_support_format_tar(a.get());
  if (archive_read_open(a.get(), feed, nullptr, &OnRead, nullptr) !=
      ARCHIVE_OK) {
    if (feed->error) return *feed->error;
    return MakeError(Code::kParse, "reading tar: ", ErrorText(a.get()));
  }
  return a;
}

TarMember MemberOf(archive_entry* e) {
  TarMember m;
  const char* name = archive_entry_pathname(e);
  m.name = name != nullptr ? name : "";
  m.mode = static_cast<uint32_t>(archive_entry_perm(e)) & 07777;
  m.uid = archive_entry_uid(e);
  m.gid = archive_entry_gid(e);
  m.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  if (const char* hard = archive_entry_hardlink(e)) {
    m.type = layer::EntryType::kHardlink;
    m.link_target = hard;
  } else {
    switch (archive_entry_filetype(e)) {
      case AE_IFDIR: m.type = layer::EntryType::kDirectory; break;
      case AE_IFLNK:
        m.type = layer::EntryType::kSymlink;
        if (const char* t = archive_entry_symlink(e)) m.link_target = t;
        break;
      case AE_IFCHR: m.type = layer::EntryType::kCharDevice; break;
      case AE_IFBLK: m.type = layer::EntryType::kBlockDevice; break;
      case AE_IFIFO: m.type = layer::EntryType::kFifo; break;
      default:
        m.type = layer::EntryType::kRegular;
        m.size = archive_entry_size(e);
    }
  }
  m.dev_major = static_cast<uint32_t>(archive_entry_rdevmajor(e));
  m.dev_minor = static_cast<uint32_t>(archive_entry_rdevminor(e));
  archive_entry_xattr_reset(e);
  const char* xname;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
    m.xattrs.push_back(
        {xname, std::string(static_cast<const char*>(value), size)});
  }
  std::sort(m.xattrs.begin(), m.xattrs.end(),
            [](const layer::Xattr& x, const layer::Xattr& y) {
              return x.name < y.name;
            });
  return m;
}

// The data of the current member, for the callback.
class MemberSource : public base::Source {
 public:
  MemberSource(archive* a, Feed* feed) : a_(a), feed_(feed) {}
  base::Result<size_t> Read(std::span<uint8_t> out) override {
    la_ssize_t n = archive_read_data(a_, out.data(), out.size());
    if (n < 0) {
      if (feed_->error) return *feed_->error;
      return MakeError(Code::kParse, "reading tar: ", ErrorText(a_));
    }
    return static_cast<size_t>(n);
  }

 private:
  archive* a_;
  Feed* feed_;
};

}  // namespace

bool IsTarArchive(base::Source& input) {
  ScopedUtf8 utf8;
  auto decompressed = layer::DecompressingSource::Open(&input);
  if (!decompressed) return false;
  Feed feed;
  feed.source = decompressed->get();
  feed.buffer.resize(4096);  // a header is 512 bytes: read little
  base::Result<ArchivePtr> a = OpenTar(&feed);
  if (!a) return false;
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a->get(), &e);
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

base::Status ReadTar(base::Source& input, const TarMemberFn& fn) {
  ScopedUtf8 utf8;
  STRATA_ASSIGN_OR_RETURN(auto decompressed,
                          layer::DecompressingSource::Open(&input));
  Feed feed;
  feed.source = decompressed.get();
  STRATA_ASSIGN_OR_RETURN(ArchivePtr a, OpenTar(&feed));
  while (true) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) return base::OkStatus();
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      if (feed.error) return *feed.error;
      return MakeError(Code::kParse, "reading tar: ", ErrorText(a.get()));
    }
    TarMember member = MemberOf(e);
    MemberSource content(a.get(), &feed);
    bool has_content = member.type == layer::EntryType::kRegular;
    STRATA_TRY(fn(member, has_content ? &content : nullptr));
  }
}

}  // namespace strata::build
