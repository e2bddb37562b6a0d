#include "registry/client.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/base64.h"
#include "base/str.h"

namespace strata::registry {

const char* const kManifestMediaTypes[4] = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
};

namespace {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

// The Authorization value for Basic credentials.
std::string BasicAuth(const Credentials& creds) {
  return "Basic " +
         base::Base64Encode(creds.username + ":" + creds.password);
}

// application/x-www-form-urlencoded / query escaping.
std::string Escape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The registry's own words for a failed request: the first error of its
// JSON error body ("MANIFEST_UNKNOWN: manifest unknown"), else the status.
std::string Explain(const HttpResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() &&
      !j["errors"].empty()) {
    const nlohmann::json& e = j["errors"][0];
    std::string code = e.value("code", "");
    std::string message = e.value("message", "");
    if (!code.empty() || !message.empty()) {
      return base::StrCat(code, code.empty() ? "" : ": ", message);
    }
  }
  return "status " + std::to_string(r.status);
}

Code CodeFor(long status) {
  if (status == 401 || status == 403) return Code::kAuth;
  if (status == 404) return Code::kNotFound;
  if (status == 429 || status >= 500) return Code::kNetwork;
  return Code::kInvalidArgument;
}

// "Accept: " with every manifest type strata reads.
std::string AcceptManifests() {
  std::string accept = "Accept: ";
  for (const char* t : kManifestMediaTypes) accept += std::string(t) + ", ";
  accept.resize(accept.size() - 2);
  return accept;
}

bool IsDigestRef(const std::string& ref) {
  return ref.rfind("sha256:", 0) == 0;
}

std::string MediaTypeOf(const HttpResponse& r) {
  std::string type = r.Header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

// Reads at most `limit` bytes of another source (one PATCH chunk).
class LimitedSource : public base::Source {
 public:
  LimitedSource(std::unique_ptr<base::Source> inner, int64_t limit)
      : inner_(std::move(inner)), left_(limit) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    if (left_ <= 0) return size_t{0};
    size_t want = static_cast<size_t>(
        std::min<int64_t>(left_, static_cast<int64_t>(out.size())));
    STRATA_ASSIGN_OR_RETURN(size_t n, inner_->Read(out.first(want)));
    left_ -= static_cast<int64_t>(n);
    return n;
  }

 private:
  std::unique_ptr<base::Source> inner_;
  int64_t left_;
};

}  // namespace

std::string RepoScope(const std::string& repo, bool push) {
  return "repository:" + repo + (push ? ":pull,push" : ":pull");
}

std::optional<Challenge> ParseChallenge(const std::string& header) {
  size_t sp = header.find(' ');
  Challenge c;
  c.scheme = header.substr(0, sp);
  std::transform(c.scheme.begin(), c.scheme.end(), c.scheme.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  if (c.scheme.empty()) return std::nullopt;
  size_t i = sp == std::string::npos ? header.size() : sp + 1;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = header.substr(i, eq - i);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value.push_back(header[i++]);
      }
      ++i;  // closing quote
    } else {
      while (i < header.size() && header[i] != ',') value.push_back(header[i++]);
    }
    c.params[key] = value;
  }
  return c;
}

Client::Client(std::string host, ClientOptions options)
    : host_(std::move(host)), options_(std::move(options)) {
  api_host_ = !options_.api_host.empty() ? options_.api_host
              : host_ == "docker.io"     ? "registry-1.docker.io"
                                         : host_;
  scheme_ = options_.scheme;
}

std::string Client::Url(const std::string& path) const {
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    return path;  // an absolute Location
  }
  return scheme_ + "://" + api_host_ + path;
}

Status Client::ChooseScheme() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!scheme_.empty()) return base::OkStatus();
  if (!options_.allow_http) {
    scheme_ = "https";
    return base::OkStatus();
  }
  // As docker: an insecure registry gets https without verification when
  // it speaks TLS, else plain http.
  HttpRequest probe;
  probe.url = "https://" + api_host_ + "/v2/";
  probe.connect_timeout_seconds = 10;
  probe.stall_timeout_seconds = 10;
  TlsConfig tls = options_.tls;
  tls.verify = false;
  Result<HttpResponse> r = Send(probe, tls);
  // A refused client certificate still means the registry speaks TLS.
  bool tls_spoken = r || r.error().code() == Code::kAuth;
  scheme_ = tls_spoken ? "https" : "http";
  if (tls_spoken) options_.tls.verify = false;
  return base::OkStatus();
}

std::string Client::AuthHeader(const std::string& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  if (basic_ && options_.credentials) {
    return BasicAuth(*options_.credentials);
  }
  auto it = tokens_.find(scope);
  if (it == tokens_.end()) return "";
  if (options_.now() >= it->second.expires) {
    tokens_.erase(it);  // expired: the 401 that follows fetches a new one
    return "";
  }
  return "Bearer " + it->second.value;
}

Status Client::Authenticate(const std::string& header,
                            const std::string& scope) {
  // One token request per scope, however many requests met the 401.
  std::lock_guard<std::mutex> single(auth_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(scope);
    if (it != tokens_.end() &&
        options_.now() < it->second.expires) {
      return base::OkStatus();
    }
  }
  std::optional<Challenge> challenge = ParseChallenge(header);
  if (!challenge) {
    return MakeError(Code::kAuth, host_, ": unreadable authentication "
                                         "challenge");
  }
  if (challenge->scheme == "basic") {
    if (!options_.credentials) {
      return MakeError(Code::kAuth, host_,
                       ": authentication required (no credentials: use "
                       "strata login or --creds)");
    }
    std::lock_guard<std::mutex> lock(mu_);
    basic_ = true;
    return base::OkStatus();
  }
  if (challenge->scheme != "bearer") {
    return MakeError(Code::kAuth, host_, ": unsupported authentication "
                                         "scheme ", challenge->scheme);
  }
  const std::string& realm = challenge->params["realm"];
  if (realm.rfind("http://", 0) != 0 && realm.rfind("https://", 0) != 0) {
    return MakeError(Code::kAuth, host_, ": token realm is not a URL");
  }
  std::string want = scope.empty() ? challenge->params["scope"] : scope;
  HttpRequest req;
  std::string service = challenge->params["service"];
  const std::optional<Credentials>& creds = options_.credentials;
  if (creds && !creds->identity_token.empty()) {
    // OAuth2 refresh token, as docker sends an identity token.
    req.method = "POST";
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = base::StrCat("grant_type=refresh_token&client_id=strata",
                            "&service=", Escape(service), "&scope=",
                            Escape(want), "&refresh_token=",
                            Escape(creds->identity_token));
  } else {
    req.url = base::StrCat(realm, realm.find('?') == std::string::npos ? "?"
                                                                        : "&",
                           "service=", Escape(service));
    for (const std::string& s : base::Split(want, ' ')) {
      if (!s.empty()) req.url += "&scope=" + Escape(s);
    }
    if (creds) {
      req.headers.push_back("Authorization: " + BasicAuth(*creds));
    }
  }
  Result<HttpResponse> r = Send(req, options_.tls);
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) r = Send(req, options_.tls);
    bool transient = !r ? r.error().code() == Code::kNetwork
                        : r->status == 429 || r->status >= 500;
    if (!transient || attempt >= options_.max_attempts) break;
    std::this_thread::sleep_for(options_.first_backoff * attempt);
  }
  if (!r) return std::move(r).error().WithContext("token for " + host_);
  if (r->status != 200) {
    return MakeError(Code::kAuth, host_, ": token request denied (",
                     "status ", r->status, ")");
  }
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  std::string token;
  int64_t expires_in = 60;
  if (j.is_object()) {
    if (j.contains("token") && j["token"].is_string()) token = j["token"];
    if (token.empty() && j.contains("access_token") &&
        j["access_token"].is_string()) {
      token = j["access_token"];
    }
    if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
      expires_in = std::max<int64_t>(j["expires_in"].get<int64_t>(), 1);
    }
  }
  if (token.empty()) {
    return MakeError(Code::kAuth, host_, ": token endpoint sent no token");
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Renew a little early so a request does not race the expiry.
  auto life = std::chrono::seconds(expires_in);
  if (life > std::chrono::seconds(10)) life -= std::chrono::seconds(5);
  tokens_[scope] = Token{token, options_.now() + life};
  return base::OkStatus();
}

Result<HttpResponse> Client::Do(
    const std::string& scope,
    const std::function<Result<HttpRequest>()>& make, bool retry) {
  const int max_attempts = retry ? options_.max_attempts : 1;
  STRATA_TRY(ChooseScheme());
  bool authenticated = false;
  for (int attempt = 1;; ++attempt) {
    STRATA_ASSIGN_OR_RETURN(HttpRequest req, make());
    std::string auth = AuthHeader(scope);
    if (!auth.empty()) req.headers.push_back("Authorization: " + auth);
    ++requests_;
    Result<HttpResponse> r = Send(req, options_.tls);
    std::chrono::milliseconds wait =
        options_.first_backoff * (1 << std::min(attempt - 1, 5));
    if (!r) {
      if (r.error().code() != Code::kNetwork || attempt >= max_attempts) {
        return r;
      }
      std::this_thread::sleep_for(wait);
      continue;
    }
    if (r->status == 401 && !authenticated) {
      std::string challenge = r->Header("www-authenticate");
      if (!challenge.empty()) {
        STRATA_TRY(Authenticate(challenge, scope));
        authenticated = true;
        --attempt;  // not a failure of the registry's
        continue;
      }
    }
    if ((r->status == 429 || r->status >= 500) && attempt < max_attempts) {
      std::string after = r->Header("retry-after");
      int64_t seconds = 0;
      if (base::ParseInt64(after, &seconds) && seconds >= 0) {
        wait = std::chrono::seconds(std::min<int64_t>(seconds, 10));
      }
      std::this_thread::sleep_for(wait);
      continue;
    }
    return r;
  }
}

Result<FetchedManifest> Client::GetManifest(const std::string& repo,
                                            const std::string& ref) {
  std::string path = "/v2/" + repo + "/manifests/" + ref;
  STRATA_ASSIGN_OR_RETURN(
      HttpResponse r, Do(RepoScope(repo, false), [&]() -> Result<HttpRequest> {
        HttpRequest req;
        req.url = Url(path);
        req.headers.push_back(AcceptManifests());
        return req;
      }));
  std::string what = base::StrCat(host_, "/", repo,
                                  IsDigestRef(ref) ? "@" : ":", ref);
  if (r.status != 200) {
    return MakeError(CodeFor(r.status), "pull ", what, ": ", Explain(r));
  }
  FetchedManifest m;
  m.body = std::move(r.body);
  m.media_type = MediaTypeOf(r);
  m.digest = base::Digest::Of(m.body);
  if (IsDigestRef(ref) && m.digest.ToString() != ref) {
    return MakeError(Code::kDigestMismatch, "pull ", what,
                     ": the registry sent a manifest with digest ",
                     m.digest.ToString());
  }
  return m;
}

Result<std::optional<Client::ManifestHead>> Client::HeadManifest(
    const std::string& repo, const std::string& ref) {
  std::string path = "/v2/" + repo + "/manifests/" + ref;
  STRATA_ASSIGN_OR_RETURN(
      HttpResponse r, Do(RepoScope(repo, false), [&]() -> Result<HttpRequest> {
        HttpRequest req;
        req.method = "HEAD";
        req.url = Url(path);
        req.headers.push_back(AcceptManifests());
        return req;
      }));
  if (r.status == 404) return std::optional<ManifestHead>();
  if (r.status != 200) {
    return MakeError(CodeFor(r.status), "HEAD ", host_, "/", repo, ":", ref,
                     ": status ", r.status);
  }
  ManifestHead head;
  Result<base::Digest> d = base::Digest::Parse(r.Header("docker-content-digest"));
  if (d) head.digest = *d;
  std::string length = r.Header("content-length");
  if (!base::ParseInt64(length, &head.size)) head.size = 0;
  head.media_type = MediaTypeOf(r);
  return std::optional<ManifestHead>(head);
}

Status Client::PutManifest(const std::string& repo, const std::string& ref,
                           const std::string& media_type,
                           const std::string& body) {
  std::string path = "/v2/" + repo + "/manifests/" + ref;
  STRATA_ASSIGN_OR_RETURN(
      HttpResponse r, Do(RepoScope(repo, true), [&]() -> Result<HttpRequest> {
        HttpRequest req;
        req.method = "PUT";
        req.url = Url(path);
        req.headers.push_back("Content-Type: " + media_type);
        req.body = body;
        return req;
      }));
  if (r.status != 201 && r.status != 200) {
    return MakeError(CodeFor(r.status), "push ", host_, "/", repo, ":", ref,
                     ": ", Explain(r));
  }
  return base::OkStatus();
}

Result<bool> Client::BlobExists(const std::string& repo,
                                const base::Digest& digest,
                                const std::string& scope) {
  std::string path = "/v2/" + repo + "/blobs/" + digest.ToString();
  STRATA_ASSIGN_OR_RETURN(
      HttpResponse r,
      Do(scope.empty() ? RepoScope(repo, false) : scope,
         [&]() -> Result<HttpRequest> {
        HttpRequest req;
        req.method = "HEAD";
        req.url = Url(path);
        return req;
      }));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  return MakeError(CodeFor(r.status), "HEAD blob ", digest.ToString(), " in ",
                   host_, "/", repo, ": status ", r.status);
}

Status Client::FetchBlob(const std::string& repo, const base::Digest& digest,
                         int64_t size, base::Sink* sink) {
  std::string path = "/v2/" + repo + "/blobs/" + digest.ToString();
  base::DigestingSink hashed(sink);
  STRATA_ASSIGN_OR_RETURN(
      HttpResponse r, Do(RepoScope(repo, false), [&]() -> Result<HttpRequest> {
        HttpRequest req;
        req.url = Url(path);
        req.sink = &hashed;
        req.range_start = hashed.size();  // a retry resumes
        return req;
      }));
  std::string what = base::StrCat(host_, "/", repo, "@", digest.ToString());
  if (r.status != 200 && r.status != 206) {
    return MakeError(CodeFor(r.status), "pull blob ", what, ": ", Explain(r));
  }
  if (size >= 0 && hashed.size() != size) {
    return MakeError(Code::kDigestMismatch, "pull blob ", what, ": got ",
                     hashed.size(), " bytes, the manifest says ", size);
  }
  base::Digest got = hashed.Finish();
  if (got != digest) {
    return MakeError(Code::kDigestMismatch, "pull blob ", what,
                     ": content has digest ", got.ToString());
  }
  return base::OkStatus();
}

Result<bool> Client::PushBlob(const std::string& repo,
                              const base::Digest& digest, int64_t size,
                              const BlobOpener& open,
                              const std::string& mount_from) {
  std::string what = base::StrCat(host_, "/", repo, "@", digest.ToString());
  std::string scope = RepoScope(repo, true);
  if (!mount_from.empty() && mount_from != repo) {
    scope += " " + RepoScope(mount_from, false);
  }
  STRATA_ASSIGN_OR_RETURN(bool exists, BlobExists(repo, digest, scope));
  if (exists) return false;
  // A monolithic upload that fails midway leaves a broken session: each
  // try starts a new one (nothing of it was confirmed).
  for (int session = 1;; ++session) {
    std::string start = "/v2/" + repo + "/blobs/uploads/";
    if (!mount_from.empty() && mount_from != repo) {
      start += "?mount=" + Escape(digest.ToString()) +
               "&from=" + Escape(mount_from);
    }
    STRATA_ASSIGN_OR_RETURN(
        HttpResponse r, Do(scope, [&]() -> Result<HttpRequest> {
          HttpRequest req;
          req.method = "POST";
          req.url = Url(start);
          return req;
        }));
    if (r.status == 201) return false;  // mounted
    if (r.status != 202 || r.Header("location").empty()) {
      return MakeError(CodeFor(r.status), "push blob ", what,
                       ": starting the upload: ", Explain(r));
    }
    std::string location = r.Header("location");
    Result<std::string> done =
        size > options_.chunk_size
            ? UploadChunks(repo, location, digest, size, open)
            : Result<std::string>(location);
    if (!done) return std::move(done).error();
    Result<HttpResponse> put = Do(
        scope,
        [&]() -> Result<HttpRequest> {
          HttpRequest req;
          req.method = "PUT";
          req.url = Url(*done) +
                    (done->find('?') == std::string::npos ? "?" : "&") +
                    "digest=" + Escape(digest.ToString());
          req.headers.push_back("Content-Type: application/octet-stream");
          if (size <= options_.chunk_size) {
            STRATA_ASSIGN_OR_RETURN(req.body_source, open(0));
            req.body_size = size;
          }
          return req;
        },
        /*retry=*/false);
    if (put && (put->status == 201 || put->status == 204)) return true;
    bool retry = (!put && put.error().code() == Code::kNetwork) ||
                 (put && (put->status >= 500 || put->status == 404));
    if (!retry || session >= options_.max_attempts) {
      if (!put) return std::move(put).error().WithContext("push blob " + what);
      return MakeError(CodeFor(put->status), "push blob ", what, ": ",
                       Explain(*put));
    }
  }
}

Result<std::string> Client::UploadChunks(const std::string& repo,
                                         const std::string& first_location,
                                         const base::Digest& digest,
                                         int64_t size,
                                         const BlobOpener& open) {
  std::string scope = RepoScope(repo, true);
  std::string location = first_location;
  int64_t offset = 0;
  int failures = 0;
  std::string what = base::StrCat(host_, "/", repo, "@", digest.ToString());
  while (offset < size) {
    int64_t length = std::min(options_.chunk_size, size - offset);
    // One try per chunk here: after a failure the registry is asked what
    // it has, and the next PATCH starts there.
    Result<HttpResponse> r = Do(
        scope,
        [&]() -> Result<HttpRequest> {
          HttpRequest req;
          req.method = "PATCH";
          req.url = Url(location);
          req.headers.push_back("Content-Type: application/octet-stream");
          req.headers.push_back(base::StrCat("Content-Range: ", offset, "-",
                                             offset + length - 1));
          STRATA_ASSIGN_OR_RETURN(std::unique_ptr<base::Source> src,
                                  open(offset));
          req.body_source =
              std::make_shared<LimitedSource>(std::move(src), length);
          req.body_size = length;
          return req;
        },
        /*retry=*/false);
    if (r && r->status == 202) {
      if (!r->Header("location").empty()) location = r->Header("location");
      offset += length;
      continue;
    }
    if (++failures >= options_.max_attempts) {
      if (!r) return std::move(r).error().WithContext("push blob " + what);
      return MakeError(CodeFor(r->status), "push blob ", what, ": ",
                       Explain(*r));
    }
    // Where the upload stands: "Range: 0-<last byte>". Distribution also
    // says "0-0" for an empty upload, so that means one byte only when the
    // registry had confirmed one: read as 1 it would make the next PATCH
    // skip the blob's first byte, which the registry accepts.
    const int64_t confirmed = offset;  // the failed chunk's start
    Result<HttpResponse> status = Do(scope, [&]() -> Result<HttpRequest> {
      HttpRequest q;
      q.url = Url(location);
      return q;
    });
    if (!status || status->status != 204) {
      return MakeError(Code::kNetwork, "push blob ", what,
                       ": upload lost after a failed chunk");
    }
    std::string range = status->Header("range");
    size_t dash = range.find('-');
    int64_t last = -1;
    if (dash == std::string::npos ||
        !base::ParseInt64(range.substr(dash + 1), &last)) {
      return MakeError(Code::kNetwork, "push blob ", what,
                       ": the registry sent no upload range");
    }
    offset = last == 0 && confirmed == 0 ? 0 : last + 1;
    if (!status->Header("location").empty()) {
      location = status->Header("location");
    }
  }
  return location;
}

}  // namespace strata::registry
