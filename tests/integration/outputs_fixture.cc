// Fixture for tests/integration/outputs.sh: builds a small two-layer image
// in a store (as the executor would leave it), tags it "fixture:v1", and
// exports it through every --output type so real tools can read the
// results.
//
// Usage: strata_outputs_fixture STORE_ROOT OUT_DIR
// Writes OUT_DIR/{oci-dir/, oci.tar, docker.tar, local/, fs.tar} and prints
// the manifest digest.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "build/distributable.h"
#include "build/outputs.h"
#include "image/local_images.h"
#include "layer/writer.h"

namespace strata {
namespace {

using base::Status;

layer::Entry Meta(layer::EntryType type, const std::string& path,
                  uint32_t mode, int64_t mtime, int64_t owner = 0) {
  layer::Entry e;
  e.type = type;
  e.path = path;
  e.mode = mode;
  e.uid = owner;
  e.gid = owner;
  e.mtime = {mtime, 0};
  return e;
}

Status File(layer::LayerWriter& w, const std::string& path,
            const std::string& data, uint32_t mode, int64_t mtime,
            int64_t owner = 0) {
  layer::Entry e = Meta(layer::EntryType::kRegular, path, mode, mtime, owner);
  e.size = static_cast<int64_t>(data.size());
  base::StringSource src(data);
  return w.AddFile(e, src);
}

Status Link(layer::LayerWriter& w, layer::EntryType type,
            const std::string& path, const std::string& target, uint32_t mode,
            int64_t mtime, int64_t owner = 0) {
  layer::Entry e = Meta(type, path, mode, mtime, owner);
  e.link_target = target;
  return w.Add(e);
}

Status Dir(layer::LayerWriter& w, const std::string& path, int64_t mtime,
           uint32_t mode = 0755) {
  return w.Add(Meta(layer::EntryType::kDirectory, path, mode, mtime));
}

base::Result<build::Layer> PutLayer(
    const store::Store& store,
    const std::function<Status(layer::LayerWriter&)>& fill) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> blob,
                          store.NewBlobWriter());
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerWriter> writer,
                          layer::LayerWriter::Create(blob.get()));
  STRATA_TRY(fill(*writer));
  STRATA_ASSIGN_OR_RETURN(layer::LayerInfo info, writer->Finish());
  STRATA_TRY(blob->Commit(info.digest));
  return build::Layer{
      {info.media_type, info.digest, info.size, {}, std::nullopt},
      info.diff_id};
}

Status BaseLayer(layer::LayerWriter& w) {
  constexpr int64_t t = 1700000000;
  STRATA_TRY(Dir(w, "bin/", t));
  STRATA_TRY(File(w, "bin/tool", "#!/bin/sh\necho hi\n", 0755, t, 1000));
  STRATA_TRY(Link(w, layer::EntryType::kHardlink, "bin/tool-link", "bin/tool",
                  0755, t, 1000));
  STRATA_TRY(Dir(w, "data/", t));
  STRATA_TRY(File(w, "data/a", "a", 0644, t));
  STRATA_TRY(File(w, "data/b", "b", 0644, t));
  STRATA_TRY(Dir(w, "etc/", t));
  STRATA_TRY(File(w, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, t));
  STRATA_TRY(Dir(w, "lib/", t));
  STRATA_TRY(File(w, "lib/libc.so", std::string(70000, 'e'), 0644, t));
  STRATA_TRY(Link(w, layer::EntryType::kSymlink, "link-abs", "/etc/passwd",
                  0777, t));
  STRATA_TRY(File(w, "old.txt", "old", 0644, t));
  STRATA_TRY(Dir(w, "secret/", t, 0700));
  STRATA_TRY(File(w, "secret/key", "k", 0600, t));
  STRATA_TRY(Dir(w, "usr/", t));
  return Link(w, layer::EntryType::kSymlink, "usr/lib", "../lib", 0777, t);
}

Status TopLayer(layer::LayerWriter& w) {
  constexpr int64_t t = 1700000100;
  STRATA_TRY(w.AddWhiteout("", "old.txt"));
  STRATA_TRY(Dir(w, "data/", t));
  STRATA_TRY(w.AddOpaqueWhiteout("data"));
  STRATA_TRY(File(w, "data/c", "c", 0644, t));
  STRATA_TRY(Dir(w, "etc/", t));
  STRATA_TRY(File(w, "etc/passwd", "new\n", 0640, t));
  STRATA_TRY(Dir(w, "sbin/", t));
  return File(w, "sbin/run", "x", 0755, t);
}

base::Result<build::BuiltImage> PutImage(const store::Store& store) {
  build::BuiltImage img;
  STRATA_ASSIGN_OR_RETURN(build::Layer base, PutLayer(store, BaseLayer));
  STRATA_ASSIGN_OR_RETURN(build::Layer top, PutLayer(store, TopLayer));
  img.layers = {base, top};
  img.config.created = "2024-01-02T03:04:05Z";
  img.config.platform = {"linux", "amd64", ""};
  img.config.config.cmd = std::vector<std::string>{"/bin/tool"};
  for (const build::Layer& l : img.layers) {
    img.config.diff_ids.push_back(l.diff_id);
    img.parsed.layers.push_back(l.blob);
  }
  std::string config = image::ToJson(img.config);
  STRATA_ASSIGN_OR_RETURN(base::Digest config_digest, store.PutBlob(config));
  img.parsed.config = {image::media::kOciConfig, config_digest,
                       static_cast<int64_t>(config.size()), {}, std::nullopt};
  std::string manifest = image::ToJson(img.parsed);
  STRATA_ASSIGN_OR_RETURN(base::Digest manifest_digest,
                          store.PutBlob(manifest));
  img.manifest = {image::media::kOciManifest, manifest_digest,
                  static_cast<int64_t>(manifest.size()), {}, std::nullopt};
  return img;
}

Status Run(const std::string& root, const std::string& out) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                          store::Store::Open(root));
  STRATA_ASSIGN_OR_RETURN(store::StoreLock lock, store->Lock(false));
  STRATA_ASSIGN_OR_RETURN(build::BuiltImage img, PutImage(*store));
  STRATA_ASSIGN_OR_RETURN(image::Reference tag,
                          image::ParseReference("fixture:v1"));
  build::LayerCache layers(*store);
  std::vector<build::OutputSpec> outputs = {
      {"image", {}},
      {"oci", {{"dest", out + "/oci-dir"}, {"tar", "false"}}},
      {"oci", {{"dest", out + "/oci.tar"}}},
      {"docker", {{"dest", out + "/docker.tar"}}},
      {"local", {{"dest", out + "/local"}}},
      {"tar", {{"dest", out + "/fs.tar"}}},
  };
  STRATA_ASSIGN_OR_RETURN(layer::CompressionOptions gzip,
                          build::LayerCompression("gzip"));
  STRATA_TRY(build::ExportOutputs(*store, layers, img, outputs, {tag}, gzip));
  std::printf("%s\n", img.manifest.digest.ToString().c_str());
  return base::OkStatus();
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s STORE_ROOT OUT_DIR\n", argv[0]);
    return 2;
  }
  strata::base::Status st = strata::Run(argv[1], argv[2]);
  if (!st) {
    std::fprintf(stderr, "fixture: %s\n", st.error().ToString().c_str());
    return 1;
  }
  return 0;
}
