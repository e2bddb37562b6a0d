#include "build/registry_access.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/str.h"
#include "image/layout.h"
#include "image/local_images.h"

namespace strata::build {

using base::Code;
using base::Digest;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

std::string HumanSize(int64_t bytes) {
  char buf[32];
  if (bytes >= (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1e3);
  }
  return buf;
}

}  // namespace

RegistryAccess::RegistryAccess(store::Store& store, RegistryConfig config)
    : store_(store), config_(std::move(config)) {}

RegistryAccess::~RegistryAccess() { store_.SetBlobFetcher(nullptr); }

void RegistryAccess::ServeRemoteBlobs() {
  store_.SetBlobFetcher(
      [this](const Digest& d) { return FetchRemoteBlob(d); });
}

Result<registry::Client*> RegistryAccess::ClientFor(const std::string& host,
                                                    bool push) {
  const std::string& mirror = config_.hosts.docker_hub_mirror;
  bool mirrored = !push && host == image::kDockerHubDomain && !mirror.empty();
  std::string key = mirrored ? host + "#mirror" : host;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second.get();
  registry::ClientOptions options;
  if (mirrored) {
    // "http://host:port" or "host:port" (https).
    std::string scheme = "https", api = mirror;
    if (size_t sep = mirror.find("://"); sep != std::string::npos) {
      scheme = mirror.substr(0, sep);
      api = mirror.substr(sep + 3);
    }
    while (!api.empty() && api.back() == '/') api.pop_back();
    options = registry::OptionsFor(api, config_.hosts);
    options.api_host = api;
    options.scheme = scheme;
    STRATA_ASSIGN_OR_RETURN(options.credentials,
                            registry::FindCredentials(api, config_.credentials));
  } else {
    options = registry::OptionsFor(host, config_.hosts);
    STRATA_ASSIGN_OR_RETURN(
        options.credentials,
        registry::FindCredentials(host, config_.credentials));
  }
  auto client = std::make_unique<registry::Client>(host, std::move(options));
  registry::Client* raw = client.get();
  clients_.emplace(key, std::move(client));
  return raw;
}

Result<RegistryAccess::Resolved> RegistryAccess::Resolve(
    registry::Client& client, const image::Reference& ref,
    const image::Platform& platform) {
  std::string wanted = ref.digest.empty() ? ref.TagOrLatest() : ref.digest;
  STRATA_ASSIGN_OR_RETURN(registry::FetchedManifest root,
                          client.GetManifest(ref.path, wanted));
  Resolved out;
  out.root.media_type = root.media_type.empty()
                            ? image::SniffMediaType(root.body)
                            : root.media_type;
  out.root.digest = root.digest;
  out.root.size = static_cast<int64_t>(root.body.size());
  out.root_json = std::move(root.body);
  out.manifest_json = out.root_json;
  if (out.root.media_type == image::media::kOciIndex ||
      out.root.media_type == image::media::kDockerManifestList) {
    STRATA_ASSIGN_OR_RETURN(image::Index index,
                            image::ParseIndex(out.root_json));
    STRATA_ASSIGN_OR_RETURN(
        image::Descriptor child,
        image::PickPlatform(index, platform, ref.ToString()));
    STRATA_ASSIGN_OR_RETURN(
        registry::FetchedManifest m,
        client.GetManifest(ref.path, child.digest.ToString()));
    out.manifest_json = std::move(m.body);
  }
  STRATA_ASSIGN_OR_RETURN(out.manifest, image::ParseManifest(out.manifest_json));
  return out;
}

Result<image::Descriptor> RegistryAccess::Pull(const image::Reference& ref,
                                               const image::Platform& platform) {
  STRATA_ASSIGN_OR_RETURN(registry::Client * client, ClientFor(ref.domain));
  const std::string& repo = ref.path;
  STRATA_ASSIGN_OR_RETURN(Resolved r, Resolve(*client, ref, platform));
  STRATA_TRY(store_.PutBlob(r.root_json));
  if (r.manifest_json != r.root_json) STRATA_TRY(store_.PutBlob(r.manifest_json));
  const image::Descriptor& root_desc = r.root;
  const image::Manifest& manifest = r.manifest;
  if (!store_.HasBlob(manifest.config.digest)) {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> w,
                            store_.NewBlobWriter());
    STRATA_TRY(client->FetchBlob(repo, manifest.config.digest,
                                 manifest.config.size, w.get()));
    STRATA_TRY(w->Commit(manifest.config.digest));
  }
  // Where each blob lives, for lazy fetches and for mounting on push.
  std::string where = ref.domain + "/" + repo;
  STRATA_TRY(store_.PutRecord(kRemoteBlobKind, manifest.config.digest.hex(),
                              where));
  for (const image::Descriptor& layer : manifest.layers) {
    STRATA_TRY(store_.PutRecord(kRemoteBlobKind, layer.digest.hex(), where));
  }
  if (!ref.tag.empty() || ref.digest.empty()) {
    image::Reference tagged = ref;
    tagged.digest.clear();
    STRATA_TRY(image::TagImage(store_, tagged, root_desc));
  }
  return root_desc;
}

Result<RegistryAccess::RemoteImage> RegistryAccess::Inspect(
    const image::Reference& ref, const image::Platform& platform) {
  STRATA_ASSIGN_OR_RETURN(registry::Client * client, ClientFor(ref.domain));
  STRATA_ASSIGN_OR_RETURN(Resolved r, Resolve(*client, ref, platform));
  RemoteImage out;
  out.root = r.root;
  out.manifest_json = std::move(r.manifest_json);
  const image::Manifest& manifest = r.manifest;
  base::StringSink config;
  STRATA_TRY(client->FetchBlob(ref.path, manifest.config.digest,
                               manifest.config.size, &config));
  out.config_json = config.str();
  return out;
}

Result<bool> RegistryAccess::FetchRemoteBlob(const Digest& digest) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> where,
                          store_.GetRecord(kRemoteBlobKind, digest.hex()));
  if (!where) return false;
  size_t slash = where->find('/');
  if (slash == std::string::npos) {
    return MakeError(Code::kParse, "remote blob record ", digest.hex(),
                     ": bad location ", *where);
  }
  std::string host = where->substr(0, slash);
  std::string repo = where->substr(slash + 1);
  // One download per blob, however many readers want it at once.
  std::shared_ptr<std::mutex> blob_mu;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<std::mutex>& m = fetching_[digest];
    if (!m) m = std::make_shared<std::mutex>();
    blob_mu = m;
  }
  std::lock_guard<std::mutex> lock(*blob_mu);
  if (store_.HasBlob(digest)) return true;
  STRATA_ASSIGN_OR_RETURN(registry::Client * client, ClientFor(host));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> w,
                          store_.NewBlobWriter());
  STRATA_TRY(client->FetchBlob(repo, digest, -1, w.get()));
  STRATA_TRY(w->Commit(digest));
  return true;
}

Status RegistryAccess::PushBlob(registry::Client& client,
                                const std::string& repo,
                                const image::Descriptor& blob,
                                const RegistryProgress& progress) {
  // A blob pulled from this registry (downloaded since or not) is mounted
  // from its repository rather than sent again.
  std::string mount_from;
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> where,
                          store_.GetRecord(kRemoteBlobKind, blob.digest.hex()));
  if (where && where->rfind(client.host() + "/", 0) == 0) {
    mount_from = where->substr(client.host().size() + 1);
  }
  registry::BlobOpener open =
      [this, &blob](int64_t offset) -> Result<std::unique_ptr<base::Source>> {
    if (!store_.HasBlob(blob.digest)) {  // fetch it from where it lives
      STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobReader> r,
                              store_.OpenBlob(blob.digest));
    }
    std::string path = store_.BlobPath(blob.digest);
    base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::lseek(fd.get(), offset, SEEK_SET) != offset) {
      return MakeError(Code::kIo, path, ": ", base::ErrnoText(errno));
    }
    return std::unique_ptr<base::Source>(
        std::make_unique<base::FdSource>(std::move(fd), path));
  };
  auto start = std::chrono::steady_clock::now();
  STRATA_ASSIGN_OR_RETURN(
      bool sent, client.PushBlob(repo, blob.digest, blob.size, open, mount_from));
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  if (progress) {
    std::string id = blob.digest.hex().substr(0, 12);
    if (sent) {
      char rate[64];
      std::snprintf(rate, sizeof rate, "%.1f s, %s/s", seconds,
                    HumanSize(static_cast<int64_t>(
                                  static_cast<double>(blob.size) /
                                  std::max(seconds, 1e-3)))
                        .c_str());
      progress("pushed " + id + " (" + HumanSize(blob.size) + " in " + rate +
               ")");
    } else if (!mount_from.empty()) {
      progress(id + ": mounted from " + mount_from);
    } else {
      progress(id + ": already exists");
    }
  }
  return base::OkStatus();
}

Status RegistryAccess::Push(const image::Descriptor& root,
                            const std::vector<image::Reference>& to,
                            const RegistryProgress& progress) {
  // The manifests to put, children before the index, and their blobs.
  std::vector<image::Descriptor> manifests;
  std::vector<image::Descriptor> blobs;
  STRATA_ASSIGN_OR_RETURN(std::string root_json, store_.ReadBlob(root.digest));
  std::vector<std::pair<image::Descriptor, std::string>> images;
  if (root.media_type == image::media::kOciIndex ||
      root.media_type == image::media::kDockerManifestList) {
    STRATA_ASSIGN_OR_RETURN(image::Index index, image::ParseIndex(root_json));
    for (const image::Descriptor& child : index.manifests) {
      STRATA_ASSIGN_OR_RETURN(std::string json, store_.ReadBlob(child.digest));
      images.emplace_back(child, std::move(json));
    }
  } else {
    images.emplace_back(root, root_json);
  }
  for (const auto& [desc, json] : images) {
    STRATA_ASSIGN_OR_RETURN(image::Manifest m, image::ParseManifest(json));
    blobs.push_back(m.config);
    blobs.insert(blobs.end(), m.layers.begin(), m.layers.end());
  }

  for (const image::Reference& dest : to) {
    STRATA_ASSIGN_OR_RETURN(registry::Client * client,
                            ClientFor(dest.domain, /*push=*/true));
    // Blobs on both cores' worth of connections, the manifests after.
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    Status first_error = base::OkStatus();
    auto worker = [&] {
      for (size_t i; (i = next++) < blobs.size();) {
        Status s = PushBlob(*client, dest.path, blobs[i], progress);
        if (!s) {
          std::lock_guard<std::mutex> lock(err_mu);
          if (first_error) first_error = std::move(s);
          next = blobs.size();
        }
      }
    };
    std::thread second(worker);
    worker();
    second.join();
    if (!first_error) {
      return std::move(first_error).error().WithContext("push " +
                                                        dest.ToString());
    }
    if (images.size() > 1 || images[0].first.digest != root.digest) {
      for (const auto& [desc, json] : images) {
        STRATA_TRY(client->PutManifest(dest.path, desc.digest.ToString(),
                                       desc.media_type, json));
      }
    }
    std::string tag = dest.digest.empty() ? dest.TagOrLatest() : dest.digest;
    STRATA_TRY(client->PutManifest(dest.path, tag, root.media_type, root_json));
    if (progress) {
      progress(base::StrCat(dest.ToString(), ": digest: ",
                            root.digest.ToString(), " size: ", root.size));
    }
  }
  return base::OkStatus();
}

}  // namespace strata::build
