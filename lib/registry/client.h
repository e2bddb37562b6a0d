// A client of one registry's distribution API (v2), as docker and
// go-containerregistry speak it:
//   - auth: anonymous first; on 401 the WWW-Authenticate challenge decides:
//     Basic sends the credentials, Bearer fetches a token from the realm
//     (service and scope; GET with Basic credentials, or POST with an
//     identity token), cached per scope until it expires;
//   - scheme: https with the system CAs (plus certs.d), or, for a registry
//     the user named insecure and for loopback ones as docker allows,
//     https without verification falling back to plain http;
//   - retries with backoff on connection failures, 5xx and 429 (honouring
//     Retry-After), a bounded number of times;
//   - blobs stream: downloads are hashed as they arrive and resumed with a
//     Range request after a cut connection; uploads are one PUT for small
//     blobs and PATCH chunks for large ones, resumed from the offset the
//     registry confirms, so nothing it has is sent again.
// Credentials never appear in errors or logs.
#ifndef STRATA_REGISTRY_CLIENT_H_
#define STRATA_REGISTRY_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "base/stream.h"
#include "registry/credentials.h"
#include "registry/http.h"

namespace strata::registry {

/// Media types a manifest GET accepts: OCI and Docker v2 manifests and
/// indexes / manifest lists.
extern const char* const kManifestMediaTypes[4];

struct ClientOptions {
  TlsConfig tls;
  /// Plain http may be used (after https fails): --insecure-registry, and
  /// loopback registries.
  bool allow_http = false;
  std::optional<Credentials> credentials;
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{200};
  /// Send requests to this host instead (a Docker Hub mirror), with this
  /// scheme when set ("http" or "https").
  std::string api_host;
  std::string scheme;
  /// Blobs up to this size are uploaded with one PUT; larger ones in PATCH
  /// chunks of this size.
  int64_t chunk_size = 16 << 20;
  /// The clock token lifetimes (expires_in) are measured with; tests
  /// advance a fake one instead of waiting.
  std::function<std::chrono::steady_clock::time_point()> now =
      std::chrono::steady_clock::now;
};

/// A manifest as the registry served it.
struct FetchedManifest {
  std::string media_type;
  std::string body;
  base::Digest digest;  // of body (checked against the one asked for)
};

/// Opens the blob being pushed positioned at `offset` (a retry resumes).
using BlobOpener =
    std::function<base::Result<std::unique_ptr<base::Source>>(int64_t offset)>;

class Client {
 public:
  /// `host` as in a reference: "127.0.0.1:5000", "ghcr.io"; "docker.io"
  /// is served by registry-1.docker.io.
  Client(std::string host, ClientOptions options);

  const std::string& host() const { return host_; }

  /// GET /v2/<repo>/manifests/<ref> (tag or digest).
  base::Result<FetchedManifest> GetManifest(const std::string& repo,
                                            const std::string& ref);
  /// HEAD: the digest and size the registry has for `ref`, or nullopt.
  struct ManifestHead {
    base::Digest digest;
    int64_t size = 0;
    std::string media_type;
  };
  base::Result<std::optional<ManifestHead>> HeadManifest(
      const std::string& repo, const std::string& ref);
  /// PUT /v2/<repo>/manifests/<ref>.
  base::Status PutManifest(const std::string& repo, const std::string& ref,
                           const std::string& media_type,
                           const std::string& body);

  /// HEAD /v2/<repo>/blobs/<digest>, authorized for `scope` (default:
  /// pull from `repo`; a push asks with the scope it pushes with).
  base::Result<bool> BlobExists(const std::string& repo,
                                const base::Digest& digest,
                                const std::string& scope = "");
  /// Streams the blob into `sink`, verifying size and digest; a cut
  /// connection resumes with Range from the bytes already passed on.
  base::Status FetchBlob(const std::string& repo, const base::Digest& digest,
                         int64_t size, base::Sink* sink);
  /// Uploads a blob of `size` bytes unless the registry has it. With
  /// `mount_from` (another repository on this registry known to hold it)
  /// a cross-repository mount is tried first. Returns true if bytes were
  /// sent, false if the blob was already there or mounted.
  base::Result<bool> PushBlob(const std::string& repo,
                              const base::Digest& digest, int64_t size,
                              const BlobOpener& open,
                              const std::string& mount_from = "");

  /// Requests made so far (for tests and progress).
  int requests() const { return requests_; }

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };

  /// Sends what `make` builds (called again for each attempt), with auth
  /// for `scope` and, when `retry`, the retry policy (uploads retry at
  /// their own level). 401 after authenticating is returned as is.
  base::Result<HttpResponse> Do(
      const std::string& scope,
      const std::function<base::Result<HttpRequest>()>& make,
      bool retry = true);
  base::Status ChooseScheme();
  base::Status Authenticate(const std::string& challenge,
                            const std::string& scope);
  std::string AuthHeader(const std::string& scope);
  std::string Url(const std::string& path) const;
  base::Result<std::string> UploadChunks(const std::string& repo,
                                         const std::string& location,
                                         const base::Digest& digest,
                                         int64_t size,
                                         const BlobOpener& open);

  std::string host_;      // as given
  std::string api_host_;  // where requests go
  ClientOptions options_;
  std::string scheme_;  // "https" or "http", chosen on first use
  std::mutex auth_mu_;  // one token request at a time
  std::mutex mu_;       // guards the auth state below
  bool basic_ = false;  // the registry asked for Basic
  std::map<std::string, Token> tokens_;  // by scope
  int requests_ = 0;
};

/// "repository:<repo>:pull" or ":pull,push".
std::string RepoScope(const std::string& repo, bool push);

/// Parses a WWW-Authenticate value: the scheme (lower-cased) and its
/// parameters ("realm", "service", "scope", ...).
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};
std::optional<Challenge> ParseChallenge(const std::string& header);

}  // namespace strata::registry

#endif  // STRATA_REGISTRY_CLIENT_H_
