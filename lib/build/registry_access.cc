#include "build/registry_access.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <thread>

#include "base/go_units.h"
#include "base/parallel.h"
#include "base/str.h"
#include "build/distributable.h"
#include "image/layout.h"
#include "image/local_images.h"

namespace strata::build {

using base::Code;
using base::Digest;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

// Passes bytes on and reports how many have gone through.
class CountingSink : public base::Sink {
 public:
  CountingSink(base::Sink* next, std::function<void(int64_t)> moved)
      : next_(next), moved_(std::move(moved)) {}
  Status Write(std::span<const uint8_t> data) override {
    STRATA_TRY(next_->Write(data));
    done_ += static_cast<int64_t>(data.size());
    moved_(done_);
    return base::OkStatus();
  }
  Status Close() override { return next_->Close(); }

 private:
  base::Sink* next_;
  std::function<void(int64_t)> moved_;
  int64_t done_ = 0;
};

class CountingSource : public base::Source {
 public:
  CountingSource(std::unique_ptr<base::Source> next, int64_t start,
                 std::function<void(int64_t)> moved)
      : next_(std::move(next)), moved_(std::move(moved)), done_(start) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    STRATA_ASSIGN_OR_RETURN(size_t n, next_->Read(out));
    done_ += static_cast<int64_t>(n);
    moved_(done_);
    return n;
  }

 private:
  std::unique_ptr<base::Source> next_;
  std::function<void(int64_t)> moved_;
  int64_t done_;
};

// "12.3MB in 2.1 s, 5.86MB/s"
std::string SizeAndRate(int64_t bytes, double seconds) {
  char text[96];
  std::snprintf(text, sizeof text, "%s in %.1f s, %s/s",
                base::HumanSize(bytes).c_str(), seconds,
                base::HumanSize(static_cast<int64_t>(
                                    static_cast<double>(bytes) /
                                    std::max(seconds, 1e-3)))
                    .c_str());
  return text;
}

void Line(const RegistryProgress& progress, std::string text,
          std::string id = "") {
  if (!progress) return;
  TransferUpdate u;
  u.kind = TransferUpdate::kLine;
  u.id = std::move(id);
  u.text = std::move(text);
  progress(u);
}

// Reports bytes of blob `id` as they move.
std::function<void(int64_t)> ByteReporter(const RegistryProgress& progress,
                                          const std::string& id,
                                          const char* action, int64_t total) {
  if (!progress) return [](int64_t) {};
  return [progress, id, action, total](int64_t done) {
    TransferUpdate u;
    u.kind = TransferUpdate::kBytes;
    u.id = id;
    u.action = action;
    u.done = done;
    u.total = total;
    progress(u);
  };
}

}  // namespace

RegistryProgress LinesOnly(std::function<void(const std::string&)> line) {
  return [line = std::move(line)](const TransferUpdate& u) {
    if (u.kind == TransferUpdate::kLine) line(u.text);
  };
}

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

Result<registry::FetchedManifest> RegistryAccess::GetManifest(
    registry::Client& client, const std::string& repo, const std::string& ref) {
  std::optional<Digest> known;
  std::string media_type;
  if (Result<Digest> d = Digest::Parse(ref); d) {
    known = *d;
  } else {
    // HEAD costs no download (and, on Docker Hub, no pull from the rate
    // limit); a registry that will not answer it still answers the GET.
    Result<std::optional<registry::Client::ManifestHead>> head =
        client.HeadManifest(repo, ref);
    if (head && *head && !(*head)->digest.hex().empty()) {
      known = (*head)->digest;
      media_type = (*head)->media_type;
    }
  }
  if (known && store_.HasBlob(*known)) {
    Result<std::string> body = store_.ReadBlob(*known);
    if (body) {
      registry::FetchedManifest out;
      out.media_type =
          media_type.empty() ? image::SniffMediaType(*body) : media_type;
      out.digest = *known;
      out.body = std::move(*body);
      return out;
    }
  }
  return client.GetManifest(repo, ref);
}

Result<RegistryAccess::Resolved> RegistryAccess::Resolve(
    registry::Client& client, const image::Reference& ref,
    const image::Platform& platform) {
  std::string wanted = ref.digest.empty() ? ref.TagOrLatest() : ref.digest;
  STRATA_ASSIGN_OR_RETURN(registry::FetchedManifest root,
                          GetManifest(client, ref.path, wanted));
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
        GetManifest(client, ref.path, child.digest.ToString()));
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

Status RegistryAccess::FetchLayers(const image::Descriptor& root,
                                   const image::Platform& platform,
                                   const RegistryProgress& progress) {
  STRATA_ASSIGN_OR_RETURN(image::ResolvedImage img,
                          image::ResolveInStore(store_, root, platform));
  std::vector<image::Descriptor> missing;
  for (const image::Descriptor& layer : img.manifest.layers) {
    if (!store_.HasBlob(layer.digest)) missing.push_back(layer);
  }
  return base::ParallelFor(missing.size(), 3, [&](size_t i) -> Status {
    const image::Descriptor& layer = missing[i];
    auto start = std::chrono::steady_clock::now();
    STRATA_ASSIGN_OR_RETURN(bool fetched,
                            FetchRemoteBlob(layer.digest, layer.size, progress));
    if (!fetched) {
      return MakeError(Code::kNotFound, "layer ", layer.digest.ToString(),
                       ": not in the store and no registry known to hold it");
    }
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    std::string id = layer.digest.hex().substr(0, 12);
    Line(progress, "downloaded " + id + " (" + SizeAndRate(layer.size, seconds) + ")",
         id);
    return base::OkStatus();
  });
}

Result<bool> RegistryAccess::FetchRemoteBlob(const Digest& digest,
                                             int64_t size,
                                             const RegistryProgress& progress) {
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
  CountingSink counted(
      w.get(), ByteReporter(progress, digest.hex().substr(0, 12),
                            "Downloading", size));
  STRATA_TRY(client->FetchBlob(repo, digest, size, &counted));
  STRATA_TRY(w->Commit(digest));
  return true;
}

Status RegistryAccess::PushBlob(registry::Client& client,
                                const std::string& repo,
                                const image::Descriptor& blob,
                                const RegistryProgress& progress) {
  // A blob pulled from a registry (downloaded since or not) is mounted
  // from its repository rather than sent again. On another registry the
  // same repository name is worth asking for (a base mirrored under its
  // own name, as CI registries hold them): one that lacks it opens an
  // ordinary upload instead, so the try costs nothing.
  std::string mount_from;
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> where,
                          store_.GetRecord(kRemoteBlobKind, blob.digest.hex()));
  if (where && where->find('/') != std::string::npos) {
    mount_from = where->substr(where->find('/') + 1);
  }
  std::string id = blob.digest.hex().substr(0, 12);
  std::function<void(int64_t)> moved =
      ByteReporter(progress, id, "Pushing", blob.size);
  registry::BlobOpener open =
      [this, &blob, &moved](int64_t offset) -> Result<std::unique_ptr<base::Source>> {
    if (!store_.HasBlob(blob.digest)) {  // fetch it from where it lives
      STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobReader> r,
                              store_.OpenBlob(blob.digest));
    }
    std::string path = store_.BlobPath(blob.digest);
    base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::lseek(fd.get(), offset, SEEK_SET) != offset) {
      return MakeError(Code::kIo, path, ": ", base::ErrnoText(errno));
    }
    return std::unique_ptr<base::Source>(std::make_unique<CountingSource>(
        std::make_unique<base::FdSource>(std::move(fd), path), offset, moved));
  };
  auto start = std::chrono::steady_clock::now();
  STRATA_ASSIGN_OR_RETURN(
      bool sent, client.PushBlob(repo, blob.digest, blob.size, open, mount_from));
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  if (sent) {
    Line(progress, "pushed " + id + " (" + SizeAndRate(blob.size, seconds) + ")",
         id);
  } else if (!mount_from.empty()) {
    Line(progress, id + ": mounted from " + mount_from, id);
  } else {
    Line(progress, id + ": already exists", id);
  }
  return base::OkStatus();
}

Status RegistryAccess::PushBlob(const image::Reference& dest,
                                const image::Descriptor& blob,
                                const RegistryProgress& progress) {
  STRATA_ASSIGN_OR_RETURN(registry::Client * client,
                          ClientFor(dest.domain, /*push=*/true));
  Status pushed = PushBlob(*client, dest.path, blob, progress);
  if (!pushed) {
    return std::move(pushed).error().WithContext("push " + dest.ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  sent_.insert(dest.domain + "/" + dest.path + "@" + blob.digest.ToString());
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
    std::string sent_prefix = dest.domain + "/" + dest.path + "@";
    Status pushed = base::ParallelFor(blobs.size(), 2, [&](size_t i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (sent_.count(sent_prefix + blobs[i].digest.ToString())) {
          return base::OkStatus();
        }
      }
      return PushBlob(*client, dest.path, blobs[i], progress);
    });
    if (!pushed) {
      return std::move(pushed).error().WithContext("push " + dest.ToString());
    }
    if (images.size() > 1 || images[0].first.digest != root.digest) {
      for (const auto& [desc, json] : images) {
        STRATA_TRY(client->PutManifest(dest.path, desc.digest.ToString(),
                                       desc.media_type, json));
      }
    }
    std::string tag = dest.digest.empty() ? dest.TagOrLatest() : dest.digest;
    STRATA_TRY(client->PutManifest(dest.path, tag, root.media_type, root_json));
    Line(progress, base::StrCat(dest.ToString(), ": digest: ",
                                root.digest.ToString(), " size: ", root.size));
  }
  return base::OkStatus();
}

Result<image::Descriptor> PushCompressed(
    const store::Store& store, RegistryAccess& registries,
    const image::Descriptor& root, const std::vector<image::Reference>& to,
    const layer::CompressionOptions& compression,
    const RegistryProgress& progress) {
  // The compressing thread (this one) hands each layer to a sender.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<image::Descriptor> ready;
  bool compressed_all = false;
  Status sent = base::OkStatus();
  std::thread sender([&] {
    while (true) {
      image::Descriptor blob;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return compressed_all || !ready.empty(); });
        if (ready.empty()) return;
        blob = std::move(ready.front());
        ready.pop_front();
      }
      for (const image::Reference& dest : to) {
        Status s = registries.PushBlob(dest, blob, progress);
        if (!s) {
          std::lock_guard<std::mutex> lock(mu);
          if (sent) sent = std::move(s);
        }
      }
    }
  });
  Result<image::Descriptor> out = DistributableImage(
      store, root, compression,
      [&](const std::string& text) { Line(progress, text); },
      [&](const image::Descriptor& layer) {
        std::lock_guard<std::mutex> lock(mu);
        ready.push_back(layer);
        cv.notify_one();
      });
  {
    std::lock_guard<std::mutex> lock(mu);
    compressed_all = true;
  }
  cv.notify_one();
  sender.join();
  if (!out) return std::move(out).error();
  if (!sent) return std::move(sent).error();
  STRATA_TRY(registries.Push(*out, to, progress));
  return *out;
}

}  // namespace strata::build
