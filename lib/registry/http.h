// One HTTP exchange with libcurl, as the registry client needs it: request
// bodies from memory or streamed from a Source, response bodies streamed to
// a Sink (only for 2xx answers; an error's body is kept for its message),
// response headers, TLS with per-registry CA and client certificates.
// Nothing here retries or authenticates: client.cc does.
#ifndef STRATA_REGISTRY_HTTP_H_
#define STRATA_REGISTRY_HTTP_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/stream.h"

namespace strata::registry {

struct TlsConfig {
  bool verify = true;       // off only for a registry named insecure
  std::string ca_file;      // extra CA (certs.d/HOST/ca.crt)
  std::string client_cert;  // certs.d/HOST/client.cert
  std::string client_key;   // certs.d/HOST/client.key
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  /// The body: `body_source` (streamed, `body_size` bytes) when set, else
  /// `body` (empty: none).
  std::string body;
  std::shared_ptr<base::Source> body_source;
  int64_t body_size = 0;
  /// Where a 2xx body goes; null keeps it in HttpResponse::body.
  base::Sink* sink = nullptr;
  /// Asks for the body from this offset ("Range: bytes=N-"); a server
  /// that answers 200 with the whole body has its first N bytes dropped,
  /// so the sink always continues where it stopped.
  int64_t range_start = 0;
  bool follow_redirects = true;
  long connect_timeout_seconds = 30;
  /// Abort when fewer than 1 byte/s move for this long (a stalled peer).
  long stall_timeout_seconds = 60;
};

struct HttpResponse {
  long status = 0;
  /// Header names lower-cased; for repeated headers the last one.
  std::map<std::string, std::string> headers;
  std::string body;  // 2xx without a sink, or any error answer (capped)
  /// Bytes passed to the sink (for resuming a cut download).
  int64_t sink_bytes = 0;

  std::string Header(const std::string& lower_name) const;
};

/// Sends `request`. A transport failure (refused, reset, TLS, timeout, a
/// sink error) is an error: kNetwork for what a retry may cure, kAuth when
/// the server refused the TLS client certificate (or the lack of one), the
/// sink's own error otherwise. Any HTTP status is a response.
base::Result<HttpResponse> Send(const HttpRequest& request,
                                const TlsConfig& tls);

}  // namespace strata::registry

#endif  // STRATA_REGISTRY_HTTP_H_
