// Downloading an ADD source over http(s) with libcurl, as BuildKit's http
// source does: redirects followed, TLS verified, any status >= 400 an
// error, the body streamed to a file and hashed while it is written.
#ifndef STRATA_BUILD_HTTP_FETCH_H_
#define STRATA_BUILD_HTTP_FETCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/result.h"

namespace strata::build {

/// What a download produced.
struct FetchResult {
  base::Digest digest;  // sha256 of the body
  int64_t size = 0;
  /// Last-Modified, as Unix seconds, when the server sent one.
  std::optional<int64_t> last_modified;
};

struct FetchOptions {
  long connect_timeout_seconds = 30;
  /// Abort when fewer than 1 byte/s arrive for this long.
  long stall_timeout_seconds = 60;
  long max_redirects = 10;  // Go's http.Client follows at most 10
};

/// Downloads `url` (http:// or https:// only, also after redirects) into a
/// new file `path` (mode 0600; removed again on failure). Fails with kNetwork
/// (retryable for transport errors) naming the URL, e.g. "GET
/// http://h/x: invalid response status 404".
base::Result<FetchResult> FetchUrl(const std::string& url,
                                   const std::string& path,
                                   const FetchOptions& options = {});

/// True for "http://..." and "https://..." (BuildKit's isHTTPSource, before
/// its git check).
bool IsHttpUrl(std::string_view src);

/// True for what BuildKit's dfgitutil.ParseGitRef takes as a git remote and
/// not as a local path: git://, ssh://, "user@host:path", and http(s) URLs
/// whose path ends in ".git".
bool IsGitUrl(std::string_view src);

/// The file name BuildKit gives a download: the last element of the URL's
/// (percent-decoded) path, or "__unnamed__" when that is empty or "/".
std::string UrlFileName(std::string_view url);

}  // namespace strata::build

#endif  // STRATA_BUILD_HTTP_FETCH_H_
