#include "build/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "base/file.h"
#include "build/distributable.h"
#include "image/layout.h"
#include "image/local_images.h"
#include "layer/apply.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr char kImageNameAnnotation[] = "io.containerd.image.name";

std::string Attr(const OutputSpec& spec, const std::string& key) {
  auto it = spec.attrs.find(key);
  return it == spec.attrs.end() ? "" : it->second;
}

// Go's strconv.ParseBool, which buildx uses for boolean attributes.
Result<bool> BoolAttr(const OutputSpec& spec, const std::string& key,
                      bool fallback) {
  auto it = spec.attrs.find(key);
  if (it == spec.attrs.end()) return fallback;
  const std::string& v = it->second;
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" ||
      v == "True") {
    return true;
  }
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" ||
      v == "False") {
    return false;
  }
  return MakeError(Code::kInvalidArgument, key, "=", v, " is not a boolean");
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The names an output gives the image: its name= list, else the -t tags.
Result<std::vector<image::Reference>> OutputNames(
    const OutputSpec& spec, const std::vector<image::Reference>& tags) {
  std::string names = Attr(spec, "name");
  if (names.empty()) return tags;
  std::vector<image::Reference> out;
  for (const std::string& name : base::Split(names, ',')) {
    std::string_view text = base::TrimAscii(name);
    if (text.empty()) continue;
    Result<image::Reference> ref = image::ParseReference(text);
    if (!ref) {
      return MakeError(Code::kInvalidArgument, "name \"", text,
                       "\": ", ref.error().message());
    }
    out.push_back(std::move(ref).value());
  }
  return out;
}

// BuildKit names images with reference.TagNameOnly: ":latest" if untagged.
image::Reference WithTag(image::Reference ref) {
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

// One index.json entry per name, as containerd's archive writer makes.
std::vector<image::LayoutImage> OciLayoutImages(
    const image::Descriptor& manifest,
    const std::vector<image::Reference>& names) {
  if (names.empty()) return {image::LayoutImage{manifest, "", {}}};
  std::vector<image::LayoutImage> out;
  for (const image::Reference& name : names) {
    out.push_back(NamedLayoutImage(manifest, name));
  }
  return out;
}

// One entry carrying every name as a RepoTag, so manifest.json lists the
// image once (docker save's shape).
image::LayoutImage DockerLayoutImage(
    const image::Descriptor& manifest,
    const std::vector<image::Reference>& names) {
  if (names.empty()) return image::LayoutImage{manifest, "", {}};
  image::LayoutImage out = NamedLayoutImage(manifest, names.front());
  for (const image::Reference& name : names) {
    image::Reference ref = WithTag(name);
    if (!ref.tag.empty()) out.repo_tags.push_back(ref.Familiar());
  }
  return out;
}

Status MakeParent(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return base::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return MakeError(Code::kIo, parent.string(), ": ", ec.message());
  return base::OkStatus();
}

// A tar destination must not be a directory (buildx refuses it too).
Status CheckFileDest(const std::string& dest) {
  if (dest.empty()) {
    return MakeError(Code::kInvalidArgument,
                     "dest= is required (a file, or - for standard output)");
  }
  if (dest != "-" && (base::EndsWith(dest, "/") || IsDirectory(dest))) {
    return MakeError(Code::kInvalidArgument, "destination file ", dest,
                     " is a directory");
  }
  return base::OkStatus();
}

// Runs `produce` into standard output ("-") or into a temp file beside
// `dest` that is renamed over it once complete.
Status WriteToDest(const std::string& dest,
                   const std::function<Status(base::Sink&)>& produce) {
  if (dest == "-") {
    base::FdSink out(STDOUT_FILENO, "standard output");
    return produce(out);
  }
  STRATA_TRY(MakeParent(dest));
  std::string tmp = base::StrCat(dest, ".tmp-", ::getpid());
  base::UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return MakeError(Code::kIo, tmp, ": ", base::ErrnoText(errno));
  }
  base::FdSink sink(fd.get(), dest);
  Status st = produce(sink);
  if (::close(fd.release()) != 0 && st) {
    st = MakeError(Code::kIo, dest, ": close: ", base::ErrnoText(errno));
  }
  if (st && ::rename(tmp.c_str(), dest.c_str()) != 0) {
    st = MakeError(Code::kIo, dest, ": ", base::ErrnoText(errno));
  }
  if (!st) ::unlink(tmp.c_str());
  return st;
}

// A bounded in-memory pipe from the thread writing a tar to the applier
// reading it, so type=local never holds the whole tar in memory or on disk.
class TarPipe {
 public:
  static constexpr size_t kCapacity = 4 << 20;

  // Blocks while the pipe is full; Cancelled once the reader has stopped.
  Status Write(std::span<const uint8_t> data) {
    std::unique_lock<std::mutex> lock(mu_);
    size_t done = 0;
    while (done < data.size()) {
      space_.wait(lock, [&] { return reader_closed_ || Unread() < kCapacity; });
      if (reader_closed_) {
        return MakeError(Code::kCancelled, "the tar reader stopped");
      }
      size_t n = std::min(kCapacity - Unread(), data.size() - done);
      buffer_.append(reinterpret_cast<const char*>(data.data()) + done, n);
      done += n;
      ready_.notify_one();
    }
    return base::OkStatus();
  }

  // Ends the stream: the reader sees EOF, or `error` once it has drained.
  void CloseWrite(std::optional<base::Error> error) {
    std::lock_guard<std::mutex> lock(mu_);
    writer_done_ = true;
    if (error) error_ = std::move(error);
    ready_.notify_all();
  }

  Result<size_t> Read(std::span<uint8_t> out) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return Unread() > 0 || writer_done_; });
    if (Unread() == 0) {
      if (error_) return *error_;
      return size_t{0};
    }
    size_t n = std::min(out.size(), Unread());
    std::memcpy(out.data(), buffer_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buffer_.size()) {
      buffer_.clear();
      pos_ = 0;
    } else if (pos_ >= kCapacity) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    space_.notify_one();
    return n;
  }

  void CloseRead() {
    std::lock_guard<std::mutex> lock(mu_);
    reader_closed_ = true;
    space_.notify_all();
  }

 private:
  size_t Unread() const { return buffer_.size() - pos_; }

  std::mutex mu_;
  std::condition_variable ready_;  // data or the end arrived
  std::condition_variable space_;  // room arrived or the reader left
  std::string buffer_;
  size_t pos_ = 0;
  bool writer_done_ = false;
  bool reader_closed_ = false;
  std::optional<base::Error> error_;
};

class PipeSink : public base::Sink {
 public:
  explicit PipeSink(TarPipe* pipe) : pipe_(pipe) {}
  Status Write(std::span<const uint8_t> data) override {
    return pipe_->Write(data);
  }
  using base::Sink::Write;
  Status Close() override {
    pipe_->CloseWrite(std::nullopt);
    return base::OkStatus();
  }

 private:
  TarPipe* pipe_;
};

class PipeSource : public base::Source {
 public:
  explicit PipeSource(TarPipe* pipe) : pipe_(pipe) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    return pipe_->Read(out);
  }

 private:
  TarPipe* pipe_;
};

// Writes the view as a tar into `pipe` (run on its own thread).
Status ProduceTar(const layer::LayeredView& view, TarPipe& pipe) {
  PipeSink sink(&pipe);
  layer::WriterOptions options;
  options.compression.compression = layer::Compression::kNone;
  options.subsecond_mtime = true;  // the directory keeps exact mtimes
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerWriter> writer,
                          layer::LayerWriter::Create(&sink, options));
  STRATA_TRY(AddViewToLayer(view, *writer));
  STRATA_TRY(writer->Finish());
  return base::OkStatus();
}

Status ExportImage(const store::Store& store, const BuiltImage& image,
                   const OutputSpec& spec,
                   const std::vector<image::Reference>& tags) {
  // Pushing is the caller's (PushTargets); the names are local too, as
  // buildx's image exporter keeps them.
  STRATA_ASSIGN_OR_RETURN(std::vector<image::Reference> names,
                          OutputNames(spec, tags));
  return TagBuiltImage(store, image, names);
}

Status ExportOci(const store::Store& store, const BuiltImage& image,
                 const OutputSpec& spec,
                 const std::vector<image::Reference>& tags,
                 const layer::CompressionOptions& compression) {
  std::string dest = Attr(spec, "dest");
  STRATA_ASSIGN_OR_RETURN(std::vector<image::Reference> names,
                          OutputNames(spec, tags));
  // Layouts are for registries and other tools: layers go compressed.
  STRATA_ASSIGN_OR_RETURN(
      image::Descriptor manifest,
      DistributableImage(store, image.manifest, compression));
  std::vector<image::LayoutImage> images = OciLayoutImages(manifest, names);
  bool tar_given = spec.attrs.count("tar") != 0;
  STRATA_ASSIGN_OR_RETURN(bool tar, BoolAttr(spec, "tar", true));
  if (!tar && (dest.empty() || dest == "-")) {
    return MakeError(Code::kInvalidArgument,
                     "tar=false needs dest= naming a directory");
  }
  bool to_dir = !tar || (!tar_given && !dest.empty() && dest != "-" &&
                         (base::EndsWith(dest, "/") || IsDirectory(dest)));
  if (to_dir) return image::WriteLayoutDir(store, dest, images);
  STRATA_TRY(CheckFileDest(dest));
  if (dest != "-") STRATA_TRY(MakeParent(dest));
  return image::WriteLayoutTar(store, dest, images, image::ArchiveFlavor::kOci);
}

Status ExportDocker(const store::Store& store, const BuiltImage& image,
                    const OutputSpec& spec,
                    const std::vector<image::Reference>& tags,
                    const layer::CompressionOptions& compression) {
  std::string dest = Attr(spec, "dest");
  if (dest.empty()) {
    return MakeError(Code::kInvalidArgument,
                     "dest= is required: strata has no docker daemon to load "
                     "the image into (write dest=FILE, then 'docker load -i "
                     "FILE')");
  }
  STRATA_TRY(CheckFileDest(dest));
  STRATA_ASSIGN_OR_RETURN(std::vector<image::Reference> names,
                          OutputNames(spec, tags));
  if (dest != "-") STRATA_TRY(MakeParent(dest));
  STRATA_ASSIGN_OR_RETURN(
      image::Descriptor manifest,
      DistributableImage(store, image.manifest, compression));
  return image::WriteLayoutTar(store, dest,
                               {DockerLayoutImage(manifest, names)},
                               image::ArchiveFlavor::kDocker);
}

Status ExportFileSystem(LayerCache& layers, const BuiltImage& image,
                        const OutputSpec& spec) {
  std::string dest = Attr(spec, "dest");
  if (spec.type == "local" && (dest.empty() || dest == "-")) {
    return MakeError(Code::kInvalidArgument, "dest= must name a directory");
  }
  if (spec.type == "tar") STRATA_TRY(CheckFileDest(dest));
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> dirs,
                          layers.UnpackedAll(image.layers));
  layer::LayeredView view(std::move(dirs));
  if (spec.type == "local") return WriteViewToDir(view, dest);
  return WriteToDest(dest, [&](base::Sink& out) -> Status {
    layer::WriterOptions options;
    options.compression.compression = layer::Compression::kNone;
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerWriter> writer,
                            layer::LayerWriter::Create(&out, options));
    STRATA_TRY(AddViewToLayer(view, *writer));
    STRATA_TRY(writer->Finish());
    return base::OkStatus();
  });
}

Status ExportOne(const store::Store& store, LayerCache& layers,
                 const BuiltImage& image, const OutputSpec& spec,
                 const std::vector<image::Reference>& tags,
                 const layer::CompressionOptions& compression) {
  if (spec.type == "image" || spec.type == "registry") {
    return ExportImage(store, image, spec, tags);
  }
  if (spec.type == "oci") {
    return ExportOci(store, image, spec, tags, compression);
  }
  if (spec.type == "docker") {
    return ExportDocker(store, image, spec, tags, compression);
  }
  if (spec.type == "local" || spec.type == "tar") {
    return ExportFileSystem(layers, image, spec);
  }
  return MakeError(Code::kInvalidArgument, "unknown output type \"",
                   spec.type, "\"");
}

}  // namespace

image::LayoutImage NamedLayoutImage(const image::Descriptor& manifest,
                                    const image::Reference& name) {
  image::Reference ref = WithTag(name);
  image::LayoutImage out{manifest, ref.tag, {}};
  out.manifest.annotations[kImageNameAnnotation] = ref.ToString();
  return out;
}

Status TagBuiltImage(const store::Store& store, const BuiltImage& image,
                     const std::vector<image::Reference>& tags) {
  for (const image::Reference& tag : tags) {
    STRATA_TRY(image::TagImage(store, tag, image.manifest));
  }
  return base::OkStatus();
}

Status AddViewToLayer(const layer::LayeredView& view,
                      layer::LayerWriter& writer) {
  // (device, inode) -> the path the file was first written under.
  std::map<std::pair<uint64_t, uint64_t>, std::string> first_paths;
  return view.Walk("/", [&](const std::string& path,
                            const layer::ViewStat& st) -> Status {
    if (path == "/") return base::OkStatus();
    layer::Entry entry;
    entry.type = st.type;
    entry.path = path.substr(1);
    entry.mode = st.mode;
    entry.uid = st.uid;
    entry.gid = st.gid;
    entry.mtime = st.mtime;
    if (st.type != layer::EntryType::kDirectory && st.nlink > 1) {
      auto [it, first] =
          first_paths.try_emplace({st.device, st.inode}, entry.path);
      if (!first) {
        entry.type = layer::EntryType::kHardlink;
        entry.link_target = it->second;
        return writer.Add(entry);
      }
    }
    STRATA_ASSIGN_OR_RETURN(entry.xattrs, view.Xattrs(path));
    switch (st.type) {
      case layer::EntryType::kRegular:
        entry.size = st.size;
        return writer.AddFileFromPath(entry, st.host_path);
      case layer::EntryType::kSymlink:
        entry.link_target = st.link_target;
        break;
      case layer::EntryType::kCharDevice:
      case layer::EntryType::kBlockDevice:
        entry.dev_major = st.dev_major;
        entry.dev_minor = st.dev_minor;
        break;
      default:
        break;
    }
    return writer.Add(entry);
  });
}

Status WriteViewToDir(const layer::LayeredView& view, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !IsDirectory(dir)) {
    return MakeError(Code::kIo, dir, ": not a directory",
                     ec ? ": " + ec.message() : "");
  }
  // The view goes through the layer applier in merge mode, whose
  // containment (parents resolved inside the root, a last component never
  // followed) keeps every write inside `dir`.
  TarPipe pipe;
  std::optional<base::Error> produce_error;
  Result<layer::ApplyStats> applied = layer::ApplyStats{};
  {
    std::jthread producer([&] {
      Status st = ProduceTar(view, pipe);
      if (!st) produce_error = st.error();
      pipe.CloseWrite(produce_error);
    });
    PipeSource source(&pipe);
    layer::ApplyOptions options;
    options.mode = layer::ApplyMode::kMerge;
    options.ownership = layer::Ownership::kAuto;
    applied = layer::ApplyLayer(source, dir, options);
    pipe.CloseRead();
  }
  // The producer's own failure explains the applier's; a producer that was
  // cancelled only stopped because the applier did.
  if (produce_error && produce_error->code() != Code::kCancelled) {
    return std::move(*produce_error);
  }
  if (!applied) return std::move(applied).error().WithContext(dir);
  return base::OkStatus();
}

Result<std::vector<image::Reference>> PushTargets(
    const std::vector<OutputSpec>& outputs,
    const std::vector<image::Reference>& tags) {
  std::vector<image::Reference> out;
  for (const OutputSpec& spec : outputs) {
    if (spec.type != "image" && spec.type != "registry") continue;
    STRATA_ASSIGN_OR_RETURN(bool push, BoolAttr(spec, "push", false));
    if (!push && spec.type != "registry") continue;
    STRATA_ASSIGN_OR_RETURN(std::vector<image::Reference> names,
                            OutputNames(spec, tags));
    if (names.empty()) {
      return MakeError(Code::kInvalidArgument, "output type=", spec.type,
                       ": pushing needs a name (name= or -t)");
    }
    out.insert(out.end(), names.begin(), names.end());
  }
  return out;
}

Status ExportOutputs(const store::Store& store, LayerCache& layers,
                     const BuiltImage& image,
                     const std::vector<OutputSpec>& outputs,
                     const std::vector<image::Reference>& tags,
                     const layer::CompressionOptions& compression) {
  if (outputs.empty()) return TagBuiltImage(store, image, tags);
  for (const OutputSpec& spec : outputs) {
    Status st = ExportOne(store, layers, image, spec, tags, compression);
    if (!st) {
      return std::move(st).error().WithContext(
          base::StrCat("output type=", spec.type));
    }
  }
  return base::OkStatus();
}

}  // namespace strata::build
