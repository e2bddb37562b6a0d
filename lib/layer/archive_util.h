// Internal helpers shared by the layer writer, reader and applier: owning
// handles for libarchive objects and a thread-local UTF-8 locale.
//
// Not part of the module's public API (include only from lib/layer/*.cc).
#ifndef STRATA_LAYER_ARCHIVE_UTIL_H_
#define STRATA_LAYER_ARCHIVE_UTIL_H_

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::layer::internal {

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReadPtr = std::unique_ptr<archive, ArchiveReadDeleter>;
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryDeleter>;

/// Makes libarchive treat names as UTF-8 on this thread while alive.
///
/// Why: libarchive converts PAX `path`/`linkpath` records between UTF-8 and
/// the current locale's charset. Under the default "C" locale any non-ASCII
/// name is then written with `hdrcharset=BINARY` (and read with a warning).
/// With C.UTF-8 valid UTF-8 names are written as plain PAX UTF-8 records,
/// as Go's archive/tar (BuildKit) writes them; invalid UTF-8 still falls back
/// to raw bytes. uselocale() is per thread, so other threads are untouched.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale();
  ~ScopedUtf8Locale();
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t previous_ = nullptr;
  bool active_ = false;
};

/// libarchive's last error text for `a`, or `fallback` when it has none.
std::string ArchiveErrorText(archive* a, std::string_view fallback = "");

/// Enables the read filters strata accepts (gzip, zstd, bzip2, xz).
/// Filters that would run external programs are never enabled.
base::Status EnableReadFilters(archive* a);

}  // namespace strata::layer::internal

#endif  // STRATA_LAYER_ARCHIVE_UTIL_H_
