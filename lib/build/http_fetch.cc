#include "build/http_fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <memory>
#include <mutex>
#include <span>

#include "base/file.h"
#include "base/str.h"

namespace strata::build {
namespace {

using base::Code;
using base::MakeError;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where curl's write callback puts the body.
struct Body {
  int fd = -1;
  base::Sha256 hash;
  int64_t size = 0;
  int error = 0;  // errno of a failed write
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  size_t n = size * count;
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(body->fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      body->error = errno;
      return 0;  // curl fails with CURLE_WRITE_ERROR
    }
    done += static_cast<size_t>(w);
  }
  body->hash.Update(
      std::span(reinterpret_cast<const uint8_t*>(data), n));
  body->size += static_cast<int64_t>(n);
  return n;
}

// Transport failures that may pass when tried again.
bool Transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

void SetOptions(CURL* c, const std::string& url, const FetchOptions& options,
                Body* body, char* error_buffer) {
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, options.max_redirects);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
  // Go's transport asks for gzip and decodes it transparently; so do we.
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "strata");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// url.PathUnescape-like: "%2F" -> "/"; a bad escape is kept as written.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

bool IsHttpUrl(std::string_view src) {
  return src.starts_with("http://") || src.starts_with("https://");
}

bool IsGitUrl(std::string_view src) {
  if (src.starts_with("./") || src.starts_with("../")) return false;
  if (src.starts_with("git://") || src.starts_with("ssh://")) return true;
  if (IsHttpUrl(src)) {
    std::string_view rest = src.substr(src.find("://") + 3);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return false;
    std::string_view path = rest.substr(slash);
    path = path.substr(0, path.find_first_of("?#"));
    return path.ends_with(".git");
  }
  // scp-like "user@host:path" (gitutil's sshGitRegexp).
  size_t at = src.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  for (char c : src.substr(0, at)) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
              c == '_';
    if (!ok) return false;
  }
  size_t colon = src.find(':', at + 1);
  if (colon == std::string_view::npos || colon == at + 1) return false;
  for (char c : src.substr(at + 1, colon - at - 1)) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
              c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string UrlFileName(std::string_view url) {
  std::string_view rest = url;
  size_t scheme = rest.find("://");
  if (scheme != std::string_view::npos) rest = rest.substr(scheme + 3);
  size_t start = rest.find_first_of("/?#");
  std::string_view path;
  if (start != std::string_view::npos && rest[start] == '/') {
    path = rest.substr(start);
    path = path.substr(0, path.find_first_of("?#"));
  }
  std::string decoded = PercentDecode(path);
  // path.Base: trailing slashes dropped, then the last element; "" and "/"
  // (and ".") name nothing.
  while (!decoded.empty() && decoded.back() == '/') decoded.pop_back();
  size_t slash = decoded.rfind('/');
  std::string_view base(decoded);
  if (slash != std::string::npos) base.remove_prefix(slash + 1);
  if (base.empty() || base == ".") return "__unnamed__";
  return std::string(base);
}

base::Result<FetchResult> FetchUrl(const std::string& url,
                                   const std::string& path,
                                   const FetchOptions& options) {
  if (!IsHttpUrl(url)) {
    return MakeError(Code::kInvalidArgument, "unsupported URL \"", url,
                     "\": only http and https are supported");
  }
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return MakeError(Code::kInternal, "curl_easy_init failed");
  base::UniqueFd fd(::open(path.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return MakeError(Code::kIo, "create ", path, ": ",
                     base::ErrnoText(errno));
  }
  Body body;
  body.fd = fd.get();
  char error_buffer[CURL_ERROR_SIZE] = {};
  SetOptions(curl.get(), url, options, &body, error_buffer);
  CURLcode code = curl_easy_perform(curl.get());
  auto fail = [&](base::Error error) {
    fd.reset();
    ::unlink(path.c_str());
    return error;
  };
  if (code == CURLE_HTTP_RETURNED_ERROR) {
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    base::Error error = MakeError(Code::kNetwork, "GET ", url,
                                  ": invalid response status ", status);
    error.SetRetryable(status >= 500 || status == 429);
    return fail(std::move(error));
  }
  if (code == CURLE_WRITE_ERROR && body.error != 0) {
    return fail(MakeError(Code::kIo, "write ", path, ": ",
                          base::ErrnoText(body.error)));
  }
  if (code != CURLE_OK) {
    std::string why = error_buffer[0] != '\0' ? std::string(error_buffer)
                                              : curl_easy_strerror(code);
    base::Error error = MakeError(Code::kNetwork, "GET ", url, ": ", why);
    error.SetRetryable(Transient(code));
    return fail(std::move(error));
  }
  if (::fsync(fd.get()) != 0) {
    return fail(MakeError(Code::kIo, "fsync ", path, ": ",
                          base::ErrnoText(errno)));
  }
  FetchResult result;
  result.size = body.size;
  result.digest = body.hash.Finish();
  curl_off_t filetime = -1;
  if (curl_easy_getinfo(curl.get(), CURLINFO_FILETIME_T, &filetime) ==
          CURLE_OK &&
      filetime >= 0) {
    result.last_modified = static_cast<int64_t>(filetime);
  }
  return result;
}

}  // namespace strata::build
