#include "build/outputs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "build/distributable.h"
#include "image/local_images.h"
#include "layer/writer.h"
#include "support/test_support.h"
#include "unit/layer/layer_test_util.h"

namespace strata::build {
namespace {

namespace fs = std::filesystem;
using layer::testutil::GetFile;
using layer::testutil::ListTar;
using layer::testutil::ListTree;
using layer::testutil::RunCmd;

constexpr int64_t kT1 = 1700000000;
constexpr int64_t kT2 = 1700000100;

layer::Entry Dir(const std::string& path, int64_t mtime, uint32_t mode = 0755) {
  layer::Entry e;
  e.type = layer::EntryType::kDirectory;
  e.path = path;
  e.mode = mode;
  e.mtime = {mtime, 0};
  return e;
}

void AddFile(layer::LayerWriter& w, const std::string& path,
             const std::string& data, int64_t mtime, uint32_t mode = 0644,
             int64_t owner = 0, std::vector<layer::Xattr> xattrs = {}) {
  layer::Entry e;
  e.path = path;
  e.mode = mode;
  e.uid = owner;
  e.gid = owner;
  e.mtime = {mtime, 0};
  e.size = static_cast<int64_t>(data.size());
  e.xattrs = std::move(xattrs);
  base::StringSource src(data);
  ASSERT_TRUE(w.AddFile(e, src)) << path;
}

// A symlink, or a hardlink (which carries its target's metadata, as
// real tars do: an applier sets it on the shared inode).
void AddLink(layer::LayerWriter& w, layer::EntryType type,
             const std::string& path, const std::string& target,
             uint32_t mode = 0777, int64_t owner = 0) {
  layer::Entry e;
  e.type = type;
  e.path = path;
  e.mode = mode;
  e.uid = owner;
  e.gid = owner;
  e.mtime = {kT1, 0};
  e.link_target = target;
  ASSERT_TRUE(w.Add(e)) << path;
}

// Writes one gzip layer into the store.
Layer PutLayer(const store::Store& store,
               const std::function<void(layer::LayerWriter&)>& fill) {
  auto blob = *store.NewBlobWriter();
  auto writer = *layer::LayerWriter::Create(blob.get());
  fill(*writer);
  layer::LayerInfo info = *writer->Finish();
  EXPECT_EQ(*blob->Commit(), info.digest);
  return Layer{{info.media_type, info.digest, info.size, {}, std::nullopt},
               info.diff_id};
}

// Stores config and manifest for `layers`, as the executor would.
BuiltImage PutImage(const store::Store& store, std::vector<Layer> layers) {
  BuiltImage img;
  img.layers = std::move(layers);
  img.config.created = "2024-01-02T03:04:05Z";
  img.config.platform = {"linux", "amd64", ""};
  img.config.config.cmd = std::vector<std::string>{"/bin/tool"};
  for (const Layer& l : img.layers) {
    img.config.diff_ids.push_back(l.diff_id);
    img.parsed.layers.push_back(l.blob);
  }
  std::string config = image::ToJson(img.config);
  img.parsed.config = {image::media::kOciConfig, *store.PutBlob(config),
                       static_cast<int64_t>(config.size()), {}, std::nullopt};
  std::string manifest = image::ToJson(img.parsed);
  img.manifest = {image::media::kOciManifest, *store.PutBlob(manifest),
                  static_cast<int64_t>(manifest.size()), {}, std::nullopt};
  return img;
}

// Two layers covering every entry type the outputs handle, with a
// whiteout and an opaque directory in the top layer.
BuiltImage PutTestImage(const store::Store& store) {
  Layer base = PutLayer(store, [](layer::LayerWriter& w) {
    ASSERT_TRUE(w.Add(Dir("bin/", kT1)));
    AddFile(w, "bin/tool", "#!/bin/sh\necho hi\n", kT1, 0755, 1000,
            {{"user.test", "v"}});
    AddLink(w, layer::EntryType::kHardlink, "bin/tool-link", "bin/tool",
            0755, 1000);
    ASSERT_TRUE(w.Add(Dir("data/", kT1)));
    AddFile(w, "data/a", "a", kT1);
    AddFile(w, "data/b", "b", kT1);
    ASSERT_TRUE(w.Add(Dir("etc/", kT1)));
    AddFile(w, "etc/passwd", "root:x:0:0\n", kT1);
    ASSERT_TRUE(w.Add(Dir("lib/", kT1)));
    AddFile(w, "lib/libc.so", "elf", kT1);
    AddLink(w, layer::EntryType::kSymlink, "link-abs", "/etc/passwd");
    AddFile(w, "old.txt", "old", kT1);
    ASSERT_TRUE(w.Add(Dir("secret/", kT1, 0700)));
    AddFile(w, "secret/key", "k", kT1, 0600);
    ASSERT_TRUE(w.Add(Dir("usr/", kT1)));
    AddLink(w, layer::EntryType::kSymlink, "usr/lib", "../lib");
  });
  Layer top = PutLayer(store, [](layer::LayerWriter& w) {
    ASSERT_TRUE(w.AddWhiteout("", "old.txt"));
    ASSERT_TRUE(w.Add(Dir("data/", kT2)));
    ASSERT_TRUE(w.AddOpaqueWhiteout("data"));
    AddFile(w, "data/c", "c", kT2);
    ASSERT_TRUE(w.Add(Dir("etc/", kT2)));
    AddFile(w, "etc/passwd", "new\n", kT2, 0640);
    ASSERT_TRUE(w.Add(Dir("sbin/", kT2)));
    AddFile(w, "sbin/run", "x", kT2, 04755);
  });
  return PutImage(store, {base, top});
}

std::string Hash(const std::string& data) {
  return base::Digest::Of(data).hex().substr(0, 12);
}

// ListTree of what type=local must write for PutTestImage.
std::string ExpectedTree() {
  std::string tool_owner = ::geteuid() == 0
                               ? "1000:1000"
                               : base::StrCat(::geteuid(), ":", ::getegid());
  std::string me = ::geteuid() == 0
                       ? "0:0"
                       : base::StrCat(::geteuid(), ":", ::getegid());
  std::string t1 = base::StrCat(" t=", kT1);
  std::string t2 = base::StrCat(" t=", kT2);
  std::string tool = base::StrCat(" size=18 nlink=2 ",
                                  Hash("#!/bin/sh\necho hi\n"),
                                  " user.test=1b\n");
  return base::StrCat(
      "bin d 755 ", me, t1, "\n",                                        //
      "bin/tool f 755 ", tool_owner, t1, tool,                           //
      "bin/tool-link f 755 ", tool_owner, t1, tool,                      //
      "data d 755 ", me, t2, "\n",                                       //
      "data/c f 644 ", me, t2, " size=1 nlink=1 ", Hash("c"), "\n",      //
      "etc d 755 ", me, t2, "\n",                                        //
      "etc/passwd f 640 ", me, t2, " size=4 nlink=1 ", Hash("new\n"), "\n",
      "lib d 755 ", me, t1, "\n",                                        //
      "lib/libc.so f 644 ", me, t1, " size=3 nlink=1 ", Hash("elf"), "\n",
      "link-abs l 777 ", me, " -> /etc/passwd\n",                        //
      "sbin d 755 ", me, t2, "\n",                                       //
      "sbin/run f 4755 ", me, t2, " size=1 nlink=1 ", Hash("x"), "\n",   //
      "secret d 700 ", me, t1, "\n",                                     //
      "secret/key f 600 ", me, t1, " size=1 nlink=1 ", Hash("k"), "\n",  //
      "usr d 755 ", me, t1, "\n",                                        //
      "usr/lib l 777 ", me, " -> ../lib\n");
}

OutputSpec Out(const std::string& type,
               std::map<std::string, std::string> attrs) {
  return OutputSpec{type, std::move(attrs)};
}

image::Reference Ref(const std::string& text) {
  return image::ParseReference(text).value();
}

// No "<dest>.tmp-..." file may be left in `dir`.
void ExpectNoTemps(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos)
        << e.path();
  }
}

class OutputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::Store::Open(tmp_.path() + "/store");
    cache_ = std::make_unique<LayerCache>(*store_);
    image_ = PutTestImage(*store_);
  }
  base::Status Export(const std::vector<OutputSpec>& outputs,
                      const std::vector<image::Reference>& tags = {}) {
    return ExportOutputs(*store_, *cache_, image_, outputs, tags,
                         *LayerCompression("gzip"));
  }
  std::string Path(const std::string& rel) const {
    return tmp_.path() + "/" + rel;
  }

  testing::ScopedTempDir tmp_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LayerCache> cache_;
  BuiltImage image_;
};

TEST_F(OutputsTest, LocalWritesTheMergedFileSystem) {
  auto st = Export({Out("local", {{"dest", Path("out")}})});
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(ListTree(Path("out")), ExpectedTree());
  struct stat a, b;
  ASSERT_EQ(::lstat(Path("out/bin/tool").c_str(), &a), 0);
  ASSERT_EQ(::lstat(Path("out/bin/tool-link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  // A second export into the same directory is a no-op merge.
  ASSERT_TRUE(Export({Out("local", {{"dest", Path("out")}})}));
  EXPECT_EQ(ListTree(Path("out")), ExpectedTree());
}

TEST_F(OutputsTest, LocalNeverWritesThroughSymlinksInDest) {
  fs::create_directories(Path("outside/etc"));
  fs::create_directories(Path("out/data"));
  fs::create_symlink(Path("outside/etc"), Path("out/etc"));
  fs::create_symlink("../../outside", Path("out/bin"));
  fs::create_symlink(Path("outside/c"), Path("out/data/c"));
  fs::create_symlink("/", Path("out/secret"));
  ASSERT_TRUE(base::WriteFileAtomic(Path("out/keep.txt"), "mine"));
  auto st = Export({Out("local", {{"dest", Path("out")}})});
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_TRUE(fs::is_empty(Path("outside/etc")));
  EXPECT_EQ(std::distance(fs::directory_iterator(Path("outside")),
                          fs::directory_iterator()),
            1);
  EXPECT_FALSE(fs::exists(Path("outside/c")));
  // What the directory held is merged over: the symlinks were replaced.
  EXPECT_EQ(GetFile(Path("out/keep.txt")), "mine");
  fs::remove(Path("out/keep.txt"));
  EXPECT_EQ(ListTree(Path("out")), ExpectedTree());
}

TEST_F(OutputsTest, TarHoldsTheSameFileSystem) {
  auto st = Export({Out("tar", {{"dest", Path("fs.tar")}})});
  ASSERT_TRUE(st) << st.error().ToString();
  std::string tar = GetFile(Path("fs.tar"));
  std::vector<std::string> lines = ListTar(tar);
  std::vector<std::string> names;
  for (const std::string& l : lines) names.push_back(l.substr(0, l.find('|')));
  EXPECT_EQ(names, (std::vector<std::string>{
                       "bin/", "bin/tool", "bin/tool-link", "data/", "data/c",
                       "etc/", "etc/passwd", "lib/", "lib/libc.so", "link-abs",
                       "sbin/", "sbin/run", "secret/", "secret/key", "usr/",
                       "usr/lib"}));
  EXPECT_EQ(lines[1], base::StrCat("bin/tool|file|755|1000:1000|18|", kT1,
                                   ".0||user.test"));
  EXPECT_EQ(lines[2], base::StrCat("bin/tool-link|hardlink|755|1000:1000|0|",
                                   kT1, ".0|bin/tool|"));
  EXPECT_EQ(lines[9],
            base::StrCat("link-abs|symlink|777|0:0|0|", kT1, ".0|/etc/passwd|"));
  // GNU tar reads it the same way.
  EXPECT_EQ(RunCmd("TZ=UTC tar -tvf '" + Path("fs.tar") + "'"),
            "drwxr-xr-x 0/0               0 2023-11-14 22:13 bin/\n"
            "-rwxr-xr-x 1000/1000        18 2023-11-14 22:13 bin/tool\n"
            "hrwxr-xr-x 1000/1000         0 2023-11-14 22:13 bin/tool-link "
            "link to bin/tool\n"
            "drwxr-xr-x 0/0               0 2023-11-14 22:15 data/\n"
            "-rw-r--r-- 0/0               1 2023-11-14 22:15 data/c\n"
            "drwxr-xr-x 0/0               0 2023-11-14 22:15 etc/\n"
            "-rw-r----- 0/0               4 2023-11-14 22:15 etc/passwd\n"
            "drwxr-xr-x 0/0               0 2023-11-14 22:13 lib/\n"
            "-rw-r--r-- 0/0               3 2023-11-14 22:13 lib/libc.so\n"
            "lrwxrwxrwx 0/0               0 2023-11-14 22:13 link-abs -> "
            "/etc/passwd\n"
            "drwxr-xr-x 0/0               0 2023-11-14 22:15 sbin/\n"
            "-rwsr-xr-x 0/0               1 2023-11-14 22:15 sbin/run\n"
            "drwx------ 0/0               0 2023-11-14 22:13 secret/\n"
            "-rw------- 0/0               1 2023-11-14 22:13 secret/key\n"
            "drwxr-xr-x 0/0               0 2023-11-14 22:13 usr/\n"
            "lrwxrwxrwx 0/0               0 2023-11-14 22:13 usr/lib -> "
            "../lib\n");
  // Unpacked, it is what type=local writes.
  fs::create_directories(Path("from-tar"));
  ASSERT_TRUE(layer::testutil::ApplyBlob(tar, Path("from-tar")));
  EXPECT_EQ(ListTree(Path("from-tar")), ExpectedTree());
  ExpectNoTemps(tmp_.path());
}

// Runs `fn` with standard output sent to `path`.
void WithStdoutTo(const std::string& path, const std::function<void()>& fn) {
  std::fflush(stdout);
  int saved = ::dup(STDOUT_FILENO);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  fn();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
}

TEST_F(OutputsTest, DashStreamsToStdout) {
  ASSERT_TRUE(Export({Out("tar", {{"dest", Path("fs.tar")}})}));
  WithStdoutTo(Path("stdout.tar"), [&] {
    auto st = Export({Out("tar", {{"dest", "-"}})});
    EXPECT_TRUE(st) << st.error().ToString();
  });
  EXPECT_EQ(GetFile(Path("stdout.tar")), GetFile(Path("fs.tar")));
  ASSERT_TRUE(Export({Out("docker", {{"dest", Path("d.tar")}})}));
  WithStdoutTo(Path("stdout-docker.tar"), [&] {
    EXPECT_TRUE(Export({Out("docker", {{"dest", "-"}})}));
  });
  EXPECT_EQ(GetFile(Path("stdout-docker.tar")), GetFile(Path("d.tar")));
  WithStdoutTo(Path("stdout-oci.tar"), [&] {
    EXPECT_TRUE(Export({Out("oci", {{"dest", "-"}})}));
  });
  EXPECT_NE(GetFile(Path("stdout-oci.tar")).find("oci-layout"),
            std::string::npos);
}

nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(GetFile(path), nullptr, false);
}

TEST_F(OutputsTest, OciDirectoryWithNames) {
  fs::create_directories(Path("layout"));
  auto st = Export({Out("oci", {{"dest", Path("layout")}})},
                   {Ref("app:v1"), Ref("localhost:5000/team/app")});
  ASSERT_TRUE(st) << st.error().ToString();
  nlohmann::json index = ReadJson(Path("layout/index.json"));
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][0]["digest"], image_.manifest.digest.ToString());
  EXPECT_EQ(index["manifests"][0]["annotations"],
            (nlohmann::json{
                {"io.containerd.image.name", "docker.io/library/app:v1"},
                {"org.opencontainers.image.ref.name", "v1"}}));
  EXPECT_EQ(index["manifests"][1]["annotations"],
            (nlohmann::json{
                {"io.containerd.image.name", "localhost:5000/team/app:latest"},
                {"org.opencontainers.image.ref.name", "latest"}}));
  for (const Layer& l : image_.layers) {
    EXPECT_TRUE(fs::exists(Path("layout/blobs/sha256/" + l.blob.digest.hex())));
  }
  EXPECT_TRUE(fs::exists(
      Path("layout/blobs/sha256/" + image_.parsed.config.digest.hex())));
  EXPECT_FALSE(fs::exists(Path("layout/manifest.json")));

  // name= wins over -t; a trailing '/' or tar=false also mean a directory.
  ASSERT_TRUE(Export({Out("oci", {{"dest", Path("l2/")}, {"name", "x:1,y:2"}})},
                     {Ref("app:v1")}));
  index = ReadJson(Path("l2/index.json"));
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][1]["annotations"]["io.containerd.image.name"],
            "docker.io/library/y:2");
  ASSERT_TRUE(Export({Out("oci", {{"dest", Path("l3")}, {"tar", "false"}})}));
  index = ReadJson(Path("l3/index.json"));
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_FALSE(index["manifests"][0].contains("annotations"));
}

TEST_F(OutputsTest, OciAndDockerTars) {
  ASSERT_TRUE(Export({Out("oci", {{"dest", Path("o/img.tar")}})},
                     {Ref("app:v1")}));
  std::string listing = RunCmd("tar -tf '" + Path("o/img.tar") + "'");
  EXPECT_EQ(listing.rfind("oci-layout\nindex.json\nblobs/\nblobs/sha256/\n", 0),
            0u)
      << listing;
  EXPECT_EQ(listing.find("manifest.json"), std::string::npos);
  EXPECT_NE(listing.find(image_.manifest.digest.hex()), std::string::npos);
  std::string index = RunCmd("tar -xOf '" + Path("o/img.tar") + "' index.json");
  EXPECT_NE(index.find("\"org.opencontainers.image.ref.name\":\"v1\""),
            std::string::npos)
      << index;

  ASSERT_TRUE(Export({Out("docker", {{"dest", Path("d.tar")}})},
                     {Ref("app:v1"), Ref("app"), Ref("ghcr.io/o/x:2")}));
  nlohmann::json manifest = nlohmann::json::parse(
      RunCmd("tar -xOf '" + Path("d.tar") + "' manifest.json"));
  ASSERT_EQ(manifest.size(), 1u);
  EXPECT_EQ(manifest[0]["RepoTags"],
            (nlohmann::json{"app:v1", "app:latest", "ghcr.io/o/x:2"}));
  EXPECT_EQ(manifest[0]["Config"],
            "blobs/sha256/" + image_.parsed.config.digest.hex());
  EXPECT_EQ(manifest[0]["Layers"].size(), 2u);
  ExpectNoTemps(tmp_.path());
}

TEST_F(OutputsTest, ImageTagsInTheLocalStore) {
  ASSERT_TRUE(Export({}, {Ref("app:v1"), Ref("app:v2")}));
  EXPECT_EQ(**image::LookupImage(*store_, Ref("app:v1")), image_.manifest);
  EXPECT_EQ(**image::LookupImage(*store_, Ref("app:v2")), image_.manifest);
  ASSERT_TRUE(Export({Out("image", {{"name", "one:1, two"}})}, {Ref("app:v3")}));
  EXPECT_TRUE(image::LookupImage(*store_, Ref("one:1"))->has_value());
  EXPECT_TRUE(image::LookupImage(*store_, Ref("two:latest"))->has_value());
  EXPECT_FALSE(image::LookupImage(*store_, Ref("app:v3"))->has_value());
  ASSERT_TRUE(Export({Out("image", {})}, {Ref("app:v3")}));
  EXPECT_TRUE(image::LookupImage(*store_, Ref("app:v3"))->has_value());
  // Outputs other than image do not tag.
  ASSERT_TRUE(Export({Out("tar", {{"dest", Path("x.tar")}})}, {Ref("app:v4")}));
  EXPECT_FALSE(image::LookupImage(*store_, Ref("app:v4"))->has_value());
}

TEST_F(OutputsTest, PushTargetsAreTheNamesOfPushingOutputs) {
  std::vector<image::Reference> tags = {Ref("tagged:v1")};
  auto targets = PushTargets(
      {Out("image", {{"name", "app:v1"}, {"push", "true"}}),
       Out("registry", {}), Out("image", {{"name", "local:v1"}}),
       Out("oci", {{"dest", "x.tar"}})},
      tags);
  ASSERT_TRUE(targets) << targets.error().message();
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_EQ((*targets)[0], Ref("app:v1"));
  EXPECT_EQ((*targets)[1], Ref("tagged:v1"));
  auto unnamed = PushTargets({Out("registry", {})}, {});
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.error().message().find("needs a name"), std::string::npos);
  // The image exporter still names the image locally.
  ASSERT_TRUE(Export({Out("image", {{"name", "app:v1"}, {"push", "true"}})}));
  EXPECT_TRUE(image::LookupImage(*store_, Ref("app:v1"))->has_value());
}

struct BadOutput {
  OutputSpec spec;
  std::string message;
};

TEST_F(OutputsTest, BadDestinationsAreRefused) {
  fs::create_directories(Path("adir"));
  std::vector<BadOutput> cases = {
      {Out("tar", {{"dest", Path("adir")}}),
       "output type=tar: destination file " + Path("adir") +
           " is a directory"},
      {Out("docker", {{"dest", Path("adir")}}),
       "output type=docker: destination file " + Path("adir") +
           " is a directory"},
      {Out("oci", {{"dest", Path("adir")}, {"tar", "true"}}),
       "output type=oci: destination file " + Path("adir") +
           " is a directory"},
      {Out("oci", {{"dest", "-"}, {"tar", "false"}}),
       "output type=oci: tar=false needs dest= naming a directory"},
      {Out("oci", {{"dest", Path("x")}, {"tar", "maybe"}}),
       "output type=oci: tar=maybe is not a boolean"},
      {Out("oci", {}),
       "output type=oci: dest= is required (a file, or - for standard "
       "output)"},
      {Out("docker", {}),
       "output type=docker: dest= is required: strata has no docker daemon "
       "to load the image into (write dest=FILE, then 'docker load -i "
       "FILE')"},
      {Out("local", {{"dest", "-"}}),
       "output type=local: dest= must name a directory"},
      {Out("image", {{"name", "Bad:Name"}}),
       "output type=image: name \"Bad:Name\": invalid reference format: "
       "repository name must be lowercase"},
      {Out("floppy", {}), "output type=floppy: unknown output type \"floppy\""},
  };
  for (const BadOutput& c : cases) {
    auto st = Export({c.spec});
    ASSERT_FALSE(st) << c.message;
    EXPECT_EQ(st.error().ToString(), c.message);
  }
  EXPECT_TRUE(fs::is_empty(Path("adir")));
}

// Puts a unix socket at `path` (bound in a short directory, then moved:
// socket paths are limited to 108 bytes).
void MakeSocket(const std::string& path) {
  char dir[] = "/tmp/strata-sock-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string at = std::string(dir) + "/s";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, at.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  std::error_code ec;
  fs::rename(at, path, ec);
  EXPECT_FALSE(ec) << "cannot move the socket: " << ec.message();
  fs::remove_all(dir);
}

TEST_F(OutputsTest, FailuresMidStreamLeaveTheOldFile) {
  ASSERT_TRUE(base::WriteFileAtomic(Path("fs.tar"), "previous"));
  ASSERT_TRUE(base::WriteFileAtomic(Path("img.tar"), "previous"));
  // The view refuses a socket, which it meets after most of the walk.
  auto dirs = cache_->UnpackedAll(image_.layers);
  ASSERT_TRUE(dirs);
  MakeSocket((*dirs)[1] + "/zz.sock");
  auto st = Export({Out("tar", {{"dest", Path("fs.tar")}})});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(),
            "output type=tar: /zz.sock: sockets are not supported");
  EXPECT_EQ(GetFile(Path("fs.tar")), "previous");
  // The local output reports the writer's failure, not the reader's.
  st = Export({Out("local", {{"dest", Path("out")}})});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(),
            "output type=local: /zz.sock: sockets are not supported");
  // A blob missing from the store fails the layout tar the same way.
  ASSERT_TRUE(store_->DeleteBlob(image_.layers[0].blob.digest));
  EXPECT_FALSE(Export({Out("oci", {{"dest", Path("img.tar")}})}));
  EXPECT_EQ(GetFile(Path("img.tar")), "previous");
  ExpectNoTemps(tmp_.path());
}

TEST_F(OutputsTest, ScratchImageExportsEmpty) {
  BuiltImage scratch = PutImage(*store_, {});
  ASSERT_TRUE(ExportOutputs(*store_, *cache_, scratch,
                            {Out("local", {{"dest", Path("empty")}}),
                             Out("tar", {{"dest", Path("empty.tar")}})},
                            {}, *LayerCompression("gzip")));
  EXPECT_TRUE(fs::is_empty(Path("empty")));
  EXPECT_EQ(GetFile(Path("empty.tar")), std::string(1024, '\0'));
}

}  // namespace
}  // namespace strata::build
