#include "image/layout.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/stream.h"

namespace strata::image {

using base::Code;
using base::Digest;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr char kLayoutFile[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
constexpr char kRefName[] = "org.opencontainers.image.ref.name";

bool IsIndexType(const std::string& media_type) {
  return media_type == media::kOciIndex ||
         media_type == media::kDockerManifestList;
}

std::string BlobName(const Digest& d) { return "blobs/sha256/" + d.hex(); }

Status MkdirAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return MakeError(Code::kIo, path, ": ", ec.message());
  return base::OkStatus();
}

// Copies a store blob to `dest` (hard link when possible), atomically.
Status ExportBlob(const store::Store& store, const Digest& digest,
                  const std::string& dest) {
  struct stat st;
  if (::stat(dest.c_str(), &st) == 0) {
    Result<int64_t> size = store.BlobSize(digest);
    if (size && *size == st.st_size) return base::OkStatus();
  }
  std::string tmp = base::StrCat(dest, ".tmp-", ::getpid());
  ::unlink(tmp.c_str());
  if (::link(store.BlobPath(digest).c_str(), tmp.c_str()) != 0) {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobReader> reader,
                            store.OpenBlob(digest));
    base::UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      return MakeError(Code::kIo, tmp, ": ", base::ErrnoText(errno));
    }
    base::FdSink sink(fd.get(), tmp);
    Result<int64_t> copied = base::CopyStream(*reader, sink);
    if (!copied) {
      ::unlink(tmp.c_str());
      return std::move(copied).error();
    }
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return MakeError(Code::kIo, dest, ": ", base::ErrnoText(err));
  }
  return base::OkStatus();
}

Index LayoutIndex(const std::vector<LayoutImage>& images) {
  Index index;
  for (const LayoutImage& img : images) {
    Descriptor d = img.manifest;
    if (!img.ref_name.empty()) d.annotations[kRefName] = img.ref_name;
    index.manifests.push_back(std::move(d));
  }
  return index;
}

// docker load's manifest.json and repositories for the docker flavour.
Result<std::pair<std::string, std::string>> DockerManifests(
    const store::Store& store, const std::vector<LayoutImage>& images) {
  nlohmann::ordered_json manifests = nlohmann::ordered_json::array();
  nlohmann::ordered_json repos = nlohmann::ordered_json::object();
  for (const LayoutImage& img : images) {
    if (IsIndexType(img.manifest.media_type)) {
      return MakeError(Code::kUnsupported,
                       "docker archives hold single-platform images only");
    }
    STRATA_ASSIGN_OR_RETURN(std::string json,
                            store.ReadBlob(img.manifest.digest));
    STRATA_ASSIGN_OR_RETURN(Manifest m, ParseManifest(json));
    nlohmann::ordered_json entry;
    entry["Config"] = BlobName(m.config.digest);
    entry["RepoTags"] = img.repo_tags;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const Descriptor& l : m.layers) layers.push_back(BlobName(l.digest));
    entry["Layers"] = layers;
    manifests.push_back(entry);
    for (const std::string& tag : img.repo_tags) {
      size_t colon = tag.rfind(':');
      size_t slash = tag.rfind('/');
      if (colon == std::string::npos ||
          (slash != std::string::npos && colon < slash)) {
        continue;
      }
      repos[tag.substr(0, colon)][tag.substr(colon + 1)] =
          m.config.digest.hex();
    }
  }
  return std::pair(manifests.dump(), repos.dump());
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// A minimal deterministic tar writer for layouts: fixed owner and times.
class LayoutTarWriter {
 public:
  Status Open(int fd, const std::string& name) {
    name_ = name;
    a_.reset(archive_write_new());
    if (!a_ ||
        archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK ||
        archive_write_open_fd(a_.get(), fd) != ARCHIVE_OK) {
      return Fail("open");
    }
    return base::OkStatus();
  }
  Status Dir(const std::string& path) {
    return Header(path, AE_IFDIR, 0755, 0);
  }
  Status File(const std::string& path, std::string_view data) {
    STRATA_TRY(Header(path, AE_IFREG, 0644, static_cast<int64_t>(data.size())));
    return Data(data.data(), data.size());
  }
  Status Blob(const store::Store& store, const Descriptor& d) {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobReader> reader,
                            store.OpenBlob(d.digest));
    STRATA_TRY(Header(BlobName(d.digest), AE_IFREG, 0644, reader->size()));
    std::vector<uint8_t> buf(1 << 20);
    int64_t total = 0;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(size_t n, reader->Read(buf));
      if (n == 0) break;
      total += static_cast<int64_t>(n);
      if (total > reader->size()) {
        return MakeError(Code::kIo, "blob ", d.digest.ToString(),
                         " grew while being read");
      }
      STRATA_TRY(Data(buf.data(), n));
    }
    return base::OkStatus();
  }
  Status Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return Fail("close");
    return base::OkStatus();
  }

 private:
  Status Header(const std::string& path, unsigned type, int mode,
                int64_t size) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), static_cast<mode_t>(mode));
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) {
      return Fail(path);
    }
    return base::OkStatus();
  }
  Status Data(const void* data, size_t n) {
    if (archive_write_data(a_.get(), data, n) != static_cast<la_ssize_t>(n)) {
      return Fail("write");
    }
    return base::OkStatus();
  }
  base::Error Fail(const std::string& what) {
    const char* msg = a_ ? archive_error_string(a_.get()) : nullptr;
    return MakeError(Code::kIo, name_, ": ", what, ": ",
                     msg ? msg : "archive error");
  }

  std::string name_;
  std::unique_ptr<archive, ArchiveDeleter> a_;
};

// Copies one blob from a layout directory into the store, verified.
Status ImportBlob(const store::Store& store, const std::string& dir,
                  const Descriptor& d) {
  if (store.HasBlob(d.digest)) return base::OkStatus();
  std::string path = base::StrCat(dir, "/", BlobName(d.digest));
  STRATA_ASSIGN_OR_RETURN(base::FdSource src, base::FdSource::Open(path));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> w,
                          store.NewBlobWriter());
  STRATA_TRY(base::CopyStream(src, *w));
  Result<Digest> got = w->Commit(d.digest);
  if (!got) return std::move(got).error().WithContext(path);
  return base::OkStatus();
}

}  // namespace

const Descriptor* FindInLayoutIndex(const Index& index,
                                    const std::string& ref_name) {
  if (ref_name.empty()) {
    return index.manifests.size() == 1 ? &index.manifests[0] : nullptr;
  }
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(kRefName);
    if (it != d.annotations.end() && it->second == ref_name) return &d;
  }
  return nullptr;
}

bool PlatformMatches(const Platform& have, const Platform& want) {
  if (have.os != want.os || have.architecture != want.architecture) {
    return false;
  }
  return want.variant.empty() || have.variant == want.variant ||
         (have.variant.empty() && want.architecture == "arm64");
}

Result<Descriptor> PickPlatform(const Index& index, const Platform& platform,
                                const std::string& what) {
  std::vector<std::string> seen;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform) continue;
    Result<Platform> have = ParsePlatform(d.platform->ToString());
    if (have && PlatformMatches(*have, platform)) return d;
    seen.push_back(d.platform->ToString());
  }
  return MakeError(
      Code::kNotFound, what, ": no image for platform ", platform.ToString(),
      " (has: ", seen.empty() ? "none" : base::Join(seen, ", "), ")");
}

Result<std::vector<Descriptor>> CollectBlobs(const store::Store& store,
                                             const Descriptor& root) {
  std::vector<Descriptor> out = {root};
  STRATA_ASSIGN_OR_RETURN(std::string json, store.ReadBlob(root.digest));
  if (IsIndexType(root.media_type)) {
    STRATA_ASSIGN_OR_RETURN(Index index, ParseIndex(json));
    for (const Descriptor& child : index.manifests) {
      // Only the platforms present locally go into an output.
      if (!store.HasBlob(child.digest)) continue;
      STRATA_ASSIGN_OR_RETURN(std::vector<Descriptor> sub,
                              CollectBlobs(store, child));
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }
  STRATA_ASSIGN_OR_RETURN(Manifest m, ParseManifest(json));
  out.push_back(m.config);
  out.insert(out.end(), m.layers.begin(), m.layers.end());
  return out;
}

Status WriteLayoutDir(const store::Store& store, const std::string& dir,
                      const std::vector<LayoutImage>& images) {
  STRATA_TRY(MkdirAll(dir + "/blobs/sha256"));
  for (const LayoutImage& img : images) {
    STRATA_ASSIGN_OR_RETURN(std::vector<Descriptor> blobs,
                            CollectBlobs(store, img.manifest));
    for (const Descriptor& d : blobs) {
      STRATA_TRY(ExportBlob(store, d.digest, dir + "/" + BlobName(d.digest)));
    }
  }
  Index index;
  Result<std::string> existing = base::ReadFile(dir + "/index.json");
  if (existing) {
    STRATA_ASSIGN_OR_RETURN(index, ParseIndex(*existing));
  }
  std::set<std::string> replaced;
  for (const LayoutImage& img : images) {
    if (!img.ref_name.empty()) replaced.insert(img.ref_name);
  }
  std::vector<Descriptor> kept;
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(kRefName);
    if (it == d.annotations.end() || replaced.count(it->second) == 0) {
      kept.push_back(d);
    }
  }
  Index fresh = LayoutIndex(images);
  kept.insert(kept.end(), fresh.manifests.begin(), fresh.manifests.end());
  index.manifests = std::move(kept);
  STRATA_TRY(base::WriteFileAtomic(dir + "/oci-layout", kLayoutFile));
  return base::WriteFileAtomic(dir + "/index.json", ToJson(index));
}

Status WriteLayoutTar(const store::Store& store, const std::string& path,
                      const std::vector<LayoutImage>& images,
                      ArchiveFlavor flavor) {
  std::vector<Descriptor> blobs;
  std::set<Digest> seen;
  for (const LayoutImage& img : images) {
    STRATA_ASSIGN_OR_RETURN(std::vector<Descriptor> some,
                            CollectBlobs(store, img.manifest));
    for (const Descriptor& d : some) {
      if (seen.insert(d.digest).second) blobs.push_back(d);
    }
  }
  bool to_stdout = path == "-";
  std::string tmp = to_stdout ? "" : base::StrCat(path, ".tmp-", ::getpid());
  base::UniqueFd fd(to_stdout ? ::dup(STDOUT_FILENO)
                              : ::open(tmp.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                       0644));
  if (!fd.valid()) {
    return MakeError(Code::kIo, to_stdout ? "stdout" : tmp, ": ",
                     base::ErrnoText(errno));
  }
  auto write_all = [&]() -> Status {
    LayoutTarWriter tar;
    STRATA_TRY(tar.Open(fd.get(), path));
    STRATA_TRY(tar.File("oci-layout", kLayoutFile));
    STRATA_TRY(tar.File("index.json", ToJson(LayoutIndex(images))));
    if (flavor == ArchiveFlavor::kDocker) {
      STRATA_ASSIGN_OR_RETURN(auto docker, DockerManifests(store, images));
      STRATA_TRY(tar.File("manifest.json", docker.first));
      STRATA_TRY(tar.File("repositories", docker.second));
    }
    STRATA_TRY(tar.Dir("blobs/"));
    STRATA_TRY(tar.Dir("blobs/sha256/"));
    for (const Descriptor& d : blobs) STRATA_TRY(tar.Blob(store, d));
    return tar.Close();
  };
  Status st = write_all();
  fd.reset();
  if (to_stdout) return st;
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = MakeError(Code::kIo, path, ": ", base::ErrnoText(errno));
  }
  if (!st) ::unlink(tmp.c_str());
  return st;
}

Result<ResolvedImage> ResolveInStore(const store::Store& store,
                                     const Descriptor& root,
                                     const Platform& platform) {
  Descriptor desc = root;
  STRATA_ASSIGN_OR_RETURN(std::string json, store.ReadBlob(desc.digest));
  if (IsIndexType(desc.media_type) || IsIndexType(SniffMediaType(json))) {
    STRATA_ASSIGN_OR_RETURN(Index index, ParseIndex(json));
    STRATA_ASSIGN_OR_RETURN(
        desc, PickPlatform(index, platform, root.digest.ToString()));
    STRATA_ASSIGN_OR_RETURN(json, store.ReadBlob(desc.digest));
  }
  ResolvedImage out;
  out.manifest_desc = desc;
  STRATA_ASSIGN_OR_RETURN(out.manifest, ParseManifest(json));
  STRATA_ASSIGN_OR_RETURN(std::string config,
                          store.ReadBlob(out.manifest.config.digest));
  STRATA_ASSIGN_OR_RETURN(out.config, ParseImageConfig(config));
  return out;
}

Result<ResolvedImage> ImportLayout(const store::Store& store,
                                   const std::string& dir,
                                   const std::string& selector,
                                   const Platform& platform) {
  Result<std::string> index_json = base::ReadFile(dir + "/index.json");
  if (!index_json) {
    return MakeError(Code::kNotFound, dir,
                     ": not an OCI image layout (no index.json)");
  }
  STRATA_ASSIGN_OR_RETURN(Index index, ParseIndex(*index_json));
  const Descriptor* chosen = nullptr;
  std::vector<std::string> names;
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(kRefName);
    std::string name = it == d.annotations.end() ? "" : it->second;
    if (!name.empty()) names.push_back(name);
    bool match = selector.empty() ? index.manifests.size() == 1
                                  : (selector[0] == '@'
                                         ? "@" + d.digest.ToString() == selector
                                         : name == selector);
    if (match) chosen = &d;
  }
  if (chosen == nullptr) {
    return MakeError(
        Code::kNotFound, dir, ": no image ",
        selector.empty() ? "selected (the layout holds several; "
                           "add :TAG or @DIGEST)"
                         : "named \"" + selector + "\"",
        names.empty() ? "" : " (has: " + base::Join(names, ", ") + ")");
  }
  Descriptor root = *chosen;
  root.annotations.clear();
  STRATA_TRY(ImportBlob(store, dir, root));
  Descriptor manifest = root;
  STRATA_ASSIGN_OR_RETURN(std::string json, store.ReadBlob(root.digest));
  if (IsIndexType(root.media_type) || IsIndexType(SniffMediaType(json))) {
    STRATA_ASSIGN_OR_RETURN(Index sub, ParseIndex(json));
    STRATA_ASSIGN_OR_RETURN(manifest, PickPlatform(sub, platform, dir));
    STRATA_TRY(ImportBlob(store, dir, manifest));
    STRATA_ASSIGN_OR_RETURN(json, store.ReadBlob(manifest.digest));
  }
  STRATA_ASSIGN_OR_RETURN(Manifest m, ParseManifest(json));
  STRATA_TRY(ImportBlob(store, dir, m.config));
  for (const Descriptor& layer : m.layers) {
    STRATA_TRY(ImportBlob(store, dir, layer));
  }
  return ResolveInStore(store, manifest, platform);
}

}  // namespace strata::image
