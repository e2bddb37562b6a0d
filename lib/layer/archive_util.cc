#include "layer/archive_util.h"

namespace strata::layer::internal {

namespace {

// Created once and never freed: a locale_t is safe to share read-only
// between threads, and newlocale() is not free.
locale_t Utf8Locale() {
  static locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", nullptr);
  return loc;
}

}  // namespace

ScopedUtf8Locale::ScopedUtf8Locale() {
  locale_t loc = Utf8Locale();
  if (loc == nullptr) return;  // no C.UTF-8: names still round-trip as bytes
  previous_ = uselocale(loc);
  active_ = previous_ != nullptr;
}

ScopedUtf8Locale::~ScopedUtf8Locale() {
  if (active_) uselocale(previous_);
}

std::string ArchiveErrorText(archive* a, std::string_view fallback) {
  const char* text = a ? archive_error_string(a) : nullptr;
  if (text != nullptr && *text != '\0') return text;
  return fallback.empty() ? std::string("libarchive error")
                          : std::string(fallback);
}

base::Status EnableReadFilters(archive* a) {
  // libarchive links zlib, libzstd, libbz2 and liblzma on Debian; if a
  // build lacks one it would fall back to an external program, which
  // returns ARCHIVE_WARN here. Accept that: the data is still decoded.
  int (*const kFilters[])(archive*) = {
      archive_read_support_filter_gzip, archive_read_support_filter_zstd,
      archive_read_support_filter_bzip2, archive_read_support_filter_xz};
  for (int (*enable)(archive*) : kFilters) {
    int r = enable(a);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return base::MakeError(base::Code::kInternal,
                             "enabling decompression: ", ArchiveErrorText(a));
    }
  }
  return base::OkStatus();
}

}  // namespace strata::layer::internal
