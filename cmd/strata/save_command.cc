// `strata save`: local images to a docker-archive or OCI layout tar.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "build/distributable.h"
#include "build/outputs.h"
#include "commands.h"
#include "flag_set.h"
#include "image/layout.h"
#include "store_flags.h"

namespace strata::cli {
namespace {

constexpr char kSaveUsage[] =
    "Usage: strata save [OPTIONS] IMAGE [IMAGE...]\n"
    "\n"
    "Save images to a tar archive, written to standard output unless -o\n"
    "names a file. The docker format is what 'docker load' reads (and is\n"
    "also an OCI layout); the oci format is a plain OCI image layout.\n"
    "Layers a build wrote are compressed on the way (once: the result is\n"
    "kept).\n"
    "\n"
    "Options:\n";

base::Status CheckFormat(const std::string& value) {
  if (value == "docker" || value == "oci") return base::OkStatus();
  return base::MakeError(base::Code::kInvalidArgument,
                         "unknown format (want docker or oci)");
}

// The layout entries for the images the arguments name. A name given as
// a tag names the image in the archive; one given as an ID does not.
base::Result<std::vector<image::LayoutImage>> SaveImages(
    const store::Store& store, const std::vector<std::string>& names,
    bool docker, const layer::CompressionOptions& compression) {
  STRATA_ASSIGN_OR_RETURN(std::vector<ImageInfo> all, ListImageInfos(store));
  std::vector<image::LayoutImage> out;
  std::map<base::Digest, size_t> by_digest;  // docker: one entry per image
  for (const std::string& name : names) {
    std::vector<ImageInfo> found = FindImages(all, name);
    if (found.empty()) {
      return base::MakeError(base::Code::kNotFound, "no such image: ", name);
    }
    base::Result<image::Reference> ref = image::ParseReference(name);
    base::Result<std::string> key =
        ref ? image::ImageKey(*ref) : base::Result<std::string>(ref.error());
    bool by_tag = key && found.front().entry.name == *key;
    const ImageInfo& info = found.front();
    STRATA_ASSIGN_OR_RETURN(
        image::Descriptor manifest,
        build::DistributableImage(store, info.entry.manifest, compression));
    image::LayoutImage entry =
        by_tag ? build::NamedLayoutImage(manifest, info.entry.ref)
               : image::LayoutImage{manifest, "", {}};
    if (!docker) {
      out.push_back(std::move(entry));
      continue;
    }
    auto [it, fresh] = by_digest.try_emplace(manifest.digest, out.size());
    if (fresh) out.push_back(std::move(entry));
    if (by_tag) {
      out[it->second].repo_tags.push_back(info.entry.ref.Familiar());
    }
  }
  return out;
}

}  // namespace

int RunSave(const std::vector<std::string>& args) {
  std::string root, output, format = "docker", compression_name = "gzip";
  bool help = false;
  FlagSet flags;
  flags.String("output", 'o', &output, "FILE",
               "Write to FILE instead of standard output");
  flags.String("format", 0, &format, "FORMAT",
               "Archive format: docker (default) or oci", CheckFormat);
  flags.String("compression", 0, &compression_name, "ALGO",
               "Layer compression: gzip (default), zstd, uncompressed");
  AddRootFlag(flags, &root);
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("save", positional.error().message());
  if (help) {
    std::printf("%s%s", kSaveUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->empty()) {
    return UsageError("save", "requires at least 1 argument");
  }
  base::Result<layer::CompressionOptions> compression =
      build::LayerCompression(compression_name);
  if (!compression) return UsageError("save", compression.error().message());
  if ((output.empty() || output == "-") && ::isatty(STDOUT_FILENO)) {
    std::fprintf(stderr,
                 "strata: cowardly refusing to save to a terminal. Use the -o "
                 "flag or redirect\n");
    return kExitFailure;
  }
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  // Shared, like a build: prune cannot delete blobs while they are copied.
  base::Result<store::StoreLock> lock = (*store)->Lock(/*exclusive=*/false);
  if (!lock) return PrintFailure(lock.error());
  bool docker = format == "docker";
  base::Result<std::vector<image::LayoutImage>> images =
      SaveImages(**store, *positional, docker, *compression);
  if (!images) return PrintFailure(images.error());
  base::Status st = image::WriteLayoutTar(
      **store, output.empty() ? "-" : output, *images,
      docker ? image::ArchiveFlavor::kDocker : image::ArchiveFlavor::kOci);
  if (!st) return PrintFailure(st.error());
  return kExitOk;
}

}  // namespace strata::cli
