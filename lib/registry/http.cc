#include "registry/http.h"

#include <curl/curl.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace strata::registry {

namespace {

using base::Code;
using base::MakeError;

// An error answer's body is only for its message.
constexpr size_t kMaxErrorBody = 64 * 1024;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// True for the TLS alerts a server sends when the client certificate is
// missing or not one it accepts (as OpenSSL words what it received:
// "sslv3 alert bad certificate", "tlsv13 alert certificate required", ...).
// Under TLS 1.3 the alert comes after the client's side of the handshake
// is done, and a reset connection often loses it: see OnCertRequest.
bool IsClientCertAlert(const std::string& detail) {
  for (const char* alert :
       {"alert bad certificate", "alert certificate required",
        "alert unknown ca", "alert certificate unknown"}) {
    if (detail.find(alert) != std::string::npos) return true;
  }
  return false;
}

// The SSL_CTX slot holding the bool that OnCertRequest sets.
int CertRequestedIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL calls this when the server asks for a client certificate and
// none is configured: noted, so that the failure which follows can say
// so whatever became of the server's alert. Sends no certificate.
int OnCertRequest(SSL* ssl, X509** /*cert*/, EVP_PKEY** /*key*/) {
  void* requested =
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), CertRequestedIndex());
  if (requested != nullptr) *static_cast<bool*>(requested) = true;
  return 0;
}

// CURLOPT_SSL_CTX_FUNCTION (curl makes a context per connection):
// installs OnCertRequest, reporting to the bool at `requested`.
CURLcode OnSslContext(CURL* /*curl*/, void* ssl_ctx, void* requested) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_ex_data(ctx, CertRequestedIndex(), requested);
  SSL_CTX_set_client_cert_cb(ctx, &OnCertRequest);
  return CURLE_OK;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Exchange {
  const HttpRequest* request;
  HttpResponse* response;
  base::Status sink_error = base::OkStatus();
  bool sink_failed = false;
  int64_t uploaded = 0;
  base::Status source_error = base::OkStatus();
  bool source_failed = false;
  int64_t skip = 0;  // body bytes to drop (see HttpRequest::range_start)
};

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.pop_back();
  }
  size_t start = 0;
  while (start < s.size() &&
         std::isspace(static_cast<unsigned char>(s[start]))) {
    ++start;
  }
  return s.substr(start);
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or a 100): forget the last one's.
    // Its status is needed before the body comes (OnBody sorts by it).
    ex->response->headers.clear();
    size_t sp = line.find(' ');
    if (sp != std::string::npos) {
      ex->response->status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
    }
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  ex->response->headers[name] = Trim(line.substr(colon + 1));
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * count;
  HttpResponse* r = ex->response;
  long status = r->status;
  if (status >= 200 && status < 300 && ex->request->sink != nullptr) {
    if (status == 200 && ex->skip > 0) {  // Range ignored: drop the head
      size_t drop = static_cast<size_t>(
          std::min<int64_t>(ex->skip, static_cast<int64_t>(n)));
      ex->skip -= static_cast<int64_t>(drop);
      data += drop;
      n -= drop;
      if (n == 0) return size * count;
    }
    base::Status s = ex->request->sink->Write(
        std::span(reinterpret_cast<const uint8_t*>(data), n));
    if (!s) {
      ex->sink_error = std::move(s);
      ex->sink_failed = true;
      return 0;
    }
    r->sink_bytes += static_cast<int64_t>(n);
    return size * count;
  }
  if (status >= 200 && status < 300) {
    r->body.append(data, n);
  } else if (r->body.size() < kMaxErrorBody) {
    r->body.append(data, std::min(n, kMaxErrorBody - r->body.size()));
  }
  return n;
}

size_t OnRead(char* out, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  base::Result<size_t> n = ex->request->body_source->Read(
      std::span(reinterpret_cast<uint8_t*>(out), size * count));
  if (!n) {
    ex->source_error = std::move(n).error();
    ex->source_failed = true;
    return CURL_READFUNC_ABORT;
  }
  ex->uploaded += static_cast<int64_t>(*n);
  return *n;
}

}  // namespace

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

base::Result<HttpResponse> Send(const HttpRequest& request,
                                const TlsConfig& tls) {
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return MakeError(Code::kInternal, "curl_easy_init failed");
  CURL* c = curl.get();
  HttpResponse response;
  Exchange ex{&request, &response};
  char error_buffer[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION,
                   request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
  if (!tls.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
    // In addition to the system CAs, as docker adds certs.d CAs.
    curl_easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  bool cert_requested = false;  // set during the handshake
  if (!tls.client_cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls.client_cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, tls.client_key.c_str());
  } else if (request.url.rfind("https://", 0) == 0) {
    // Fails harmlessly (curl built with another TLS library): the alert
    // text is then the only sign.
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, &OnSslContext);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &cert_requested);
  }
  curl_easy_setopt(c, CURLOPT_USERAGENT, "strata");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, request.stall_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);

  std::unique_ptr<curl_slist, ListDeleter> headers;
  for (const std::string& h : request.headers) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  }
  if (request.range_start > 0) {
    ex.skip = request.range_start;
    std::string range =
        "Range: bytes=" + std::to_string(request.range_start) + "-";
    headers.reset(curl_slist_append(headers.release(), range.c_str()));
  }
  const std::string& m = request.method;
  if (m == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (m == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
    if (request.body_source) {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, &OnRead);
      curl_easy_setopt(c, CURLOPT_READDATA, &ex);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(request.body_size));
      // UPLOAD means PUT to curl; keep the method asked for.
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
      // No "Expect: 100-continue" round trip.
      headers.reset(curl_slist_append(headers.release(), "Expect:"));
    } else {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  CURLcode code = curl_easy_perform(c);
  if (ex.sink_failed) return std::move(ex.sink_error).error();
  if (ex.source_failed) return std::move(ex.source_error).error();
  if (code != CURLE_OK) {
    std::string detail = error_buffer[0] != '\0' ? error_buffer
                                                 : curl_easy_strerror(code);
    if ((cert_requested && response.status == 0) ||
        IsClientCertAlert(detail)) {
      // No retry cures it, and OpenSSL's words do not say what is wrong.
      return MakeError(Code::kAuth, request.method, " ", request.url, ": ",
                       tls.client_cert.empty()
                           ? "the registry requires a TLS client certificate "
                             "(none found: certs.d/HOST/client.cert and "
                             "client.key)"
                           : "the registry rejected the TLS client "
                             "certificate " + tls.client_cert);
    }
    return MakeError(Code::kNetwork, request.method, " ", request.url, ": ",
                     detail);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  return response;
}

}  // namespace strata::registry
