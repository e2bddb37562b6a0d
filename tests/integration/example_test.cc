// End-to-end builds against real peers from Debian: the README's main job
// on a busybox base, ADD from a loopback python3 http.server, local
// archives unpacked by ADD, and every --output type of one real build read
// back by skopeo, umoci and tar.
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "build_fixture.h"
#include "support/background_process.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string SourceDir() { return TestdataPath(".."); }

void NeedTools(const std::vector<std::string>& tools) {
  for (const std::string& t : tools) {
    ASSERT_EQ(RunCommand({"sh", "-c", "command -v " + t}).exit_code, 0)
        << t << " is needed (scripts/install-deps.sh --test installs it)";
  }
}

/// Every regular file, dir and symlink below `dir`, one line each:
/// "path type size-or-target".
std::string Tree(const std::string& dir) {
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(dir);
       it != fs::recursive_directory_iterator(); ++it) {
    // lexically: fs::relative would resolve symlinks.
    std::string rel = it->path().lexically_relative(dir).string();
    fs::file_status st = it->symlink_status();
    if (fs::is_symlink(st)) {
      lines.push_back(rel + " l " + fs::read_symlink(it->path()).string());
    } else if (fs::is_directory(st)) {
      lines.push_back(rel + " d");
    } else {
      lines.push_back(rel + " f " + *base::ReadFile(it->path().string()));
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST_F(BuildTest, HelloExampleOnABusyboxLayout) {
  NeedTools({"umoci", "skopeo"});
  ASSERT_TRUE(fs::exists("/bin/busybox"))
      << "Debian's busybox-static is needed (scripts/install-deps.sh)";
  CommandResult base = RunCommand(
      {"bash", SourceDir() + "/scripts/make-busybox-base.sh", STRATA_BINARY,
       path("base"), "--root", root(), "-q"});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  CommandResult r = RunStrata(
      {"build", "--root", root(), "--progress=plain", "--build-context",
       "busybox=oci-layout://" + path("base/busybox-oci") + ":latest", "-t",
       "strata-example/hello:v1", "--output",
       "type=oci,dest=" + path("hello") + "/",
       SourceDir() + "/testdata/examples/hello"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count(r.err, "load metadata for"), 1) << r.err;
  EXPECT_EQ(Count(r.err, "naming to"), 0) << "nothing was tagged in the store";

  LayoutImage img = ReadLayout(path("hello"));
  const image::ContainerConfig& c = img.config.config;
  EXPECT_EQ(c.user, "www");
  EXPECT_EQ(c.working_dir, "/srv/www");
  EXPECT_EQ(c.exposed_ports.size(), 1u);
  ASSERT_TRUE(c.healthcheck.has_value());
  // busybox base + COPY --from + COPY --chown (WORKDIR exists: no layer).
  EXPECT_EQ(img.manifest.layers.size(), 3u);

  CommandResult stat = RunCommand(
      {"umoci", "stat", "--image", path("hello") + ":v1", "--json"});
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  auto history = nlohmann::json::parse(stat.out)["history"];
  ASSERT_FALSE(history.empty());
  EXPECT_NE(history.back()["created_by"].get<std::string>().find("CMD"),
            std::string::npos);

  CommandResult unpack =
      RunCommand({"umoci", "unpack", "--rootless", "--image",
                  path("hello") + ":v1", path("bundle")});
  ASSERT_EQ(unpack.exit_code, 0) << unpack.err;
  std::string rootfs = path("bundle/rootfs");
  EXPECT_EQ(*base::ReadFile(rootfs + "/srv/www/greeting.txt"),
            "hello from strata\n");
  EXPECT_EQ(*base::ReadFile(rootfs + "/srv/www/index.html"),
            *base::ReadFile(SourceDir() +
                            "/testdata/examples/hello/site/index.html"));
  EXPECT_EQ(fs::read_symlink(rootfs + "/bin/sh"), "busybox");
  // Written by a RUN step of the site stage, in the sandbox.
  EXPECT_EQ(*base::ReadFile(rootfs + "/srv/www/files.txt"),
            "./greeting.txt\n./index.html\n");
  EXPECT_NE(r.err.find(" 2 files.txt"), std::string::npos) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((rootfs + "/etc/httpd.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  // The owner by name from the base's /etc/passwd: read from the layer.
  const image::Descriptor& last = img.manifest.layers.back();
  CommandResult list = RunCommand(
      {"tar", "--numeric-owner", "-tvzf",
       path("hello") + "/blobs/sha256/" + last.digest.hex()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("1000/1000"), std::string::npos) << list.out;
}

TEST_F(BuildTest, AddUrlFromALoopbackServerWithChecksum) {
  NeedTools({"python3"});
  dir_.WriteFile("www/payload.txt", "downloaded bytes\n");
  BackgroundProcess server({"python3", "-u", "-m", "http.server", "0",
                            "--bind", "127.0.0.1", "--directory",
                            path("www")});
  ASSERT_TRUE(server.started());
  std::optional<std::string> line = server.WaitForLine("port ", 20s);
  ASSERT_TRUE(line.has_value()) << server.output();
  std::string port = line->substr(line->find("port ") + 5);
  port = port.substr(0, port.find(' '));
  std::string url = "http://127.0.0.1:" + port + "/payload.txt";
  std::string good = base::Digest::Of("downloaded bytes\n").ToString();

  Write("Dockerfile", "FROM scratch\nADD --checksum=" + good + " " + url +
                          " /data/\nADD " + url + " /named.txt\n");
  MustBuild({"--output", "type=local,dest=" + path("out")});
  EXPECT_EQ(*base::ReadFile(path("out/data/payload.txt")),
            "downloaded bytes\n");
  EXPECT_EQ(*base::ReadFile(path("out/named.txt")), "downloaded bytes\n");
  struct stat st {};
  ASSERT_EQ(::stat(path("out/named.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  std::string bad = base::Digest::Of("other bytes").ToString();
  Write("Dockerfile",
        "FROM scratch\nADD --checksum=" + bad + " " + url + " /data/\n");
  CommandResult mismatch = Build({"--no-cache", "-q"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("Dockerfile:2:"), std::string::npos)
      << mismatch.err;
  EXPECT_NE(mismatch.err.find(bad), std::string::npos) << mismatch.err;
  EXPECT_NE(mismatch.err.find(good), std::string::npos) << mismatch.err;

  Write("Dockerfile", "FROM scratch\nADD http://127.0.0.1:" + port +
                          "/missing.txt /data/\n");
  CommandResult missing = Build({"-q"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
  server.Stop();
}

TEST_F(BuildTest, AddUnpacksLocalArchivesOfEveryCompression) {
  NeedTools({"tar", "gzip", "bzip2", "xz", "zstd"});
  dir_.WriteFile("src/pkg/readme.txt", "inside the archive\n");
  dir_.WriteFile("src/pkg/bin/run", "#!/bin/sh\n");
  fs::create_directories(ctx());
  std::string dockerfile = "FROM scratch\n";
  for (std::string kind : {"tar", "gz", "bz2", "xz", "zst"}) {
    std::string name = "pkg." + kind;
    std::string flag = kind == "tar"   ? ""
                       : kind == "gz"  ? "-z"
                       : kind == "bz2" ? "-j"
                       : kind == "xz"  ? "-J"
                                       : "--zstd";
    std::vector<std::string> argv = {"tar", "-C", path("src"), "-cf",
                                      path("ctx/" + name)};
    if (!flag.empty()) argv.insert(argv.begin() + 1, flag);
    argv.push_back("pkg");
    CommandResult tar = RunCommand(argv);
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    dockerfile += "ADD " + name + " /x/" + kind + "/\n";
  }
  Write("notanarchive.tar.gz", "plain text\n");
  dockerfile += "ADD notanarchive.tar.gz /y/\n";
  Write("Dockerfile", dockerfile);
  MustBuild({"--output", "type=local,dest=" + path("out")});
  for (std::string kind : {"tar", "gz", "bz2", "xz", "zst"}) {
    EXPECT_EQ(*base::ReadFile(path("out/x/" + kind + "/pkg/readme.txt")),
              "inside the archive\n")
        << kind;
  }
  EXPECT_EQ(*base::ReadFile(path("out/y/notanarchive.tar.gz")),
            "plain text\n");
}

TEST_F(BuildTest, EveryOutputTypeOfOneBuildReadsBack) {
  NeedTools({"umoci", "skopeo", "tar"});
  Write("Dockerfile",
        "FROM scratch\nCOPY etc/ /etc/\nCOPY app/ /app/\n"
        "ENTRYPOINT [\"/app/run\"]\n");
  Write("etc/hostname", "strata\n");
  Write("app/run", "#!/bin/sh\necho run\n");
  Write("app/data/values.txt", "1 2 3\n");
  ASSERT_EQ(::symlink("run", path("ctx/app/start").c_str()), 0);
  std::vector<std::string> tag = {"-t", "example/outputs:v2"};
  auto with = [&](const std::string& spec) {
    std::vector<std::string> a = tag;
    a.insert(a.end(), {"--output", spec});
    return a;
  };
  MustBuild(with("type=local,dest=" + path("local")));
  MustBuild(with("type=tar,dest=" + path("fs.tar")));
  MustBuild(with("type=oci,dest=" + path("oci.tar")));
  MustBuild(with("type=oci,dest=" + path("oci-dir") + "/"));
  MustBuild(with("type=docker,dest=" + path("docker.tar")));
  CommandResult stored = MustBuild(tag);  // only -t: the local store
  EXPECT_NE(stored.err.find("naming to docker.io/example/outputs:v2"),
            std::string::npos);

  std::string manifest = ReadLayout(path("oci-dir")).manifest_digest;
  for (const std::string& ref :
       {"oci:" + path("oci-dir") + ":v2", "oci-archive:" + path("oci.tar"),
        "docker-archive:" + path("docker.tar")}) {
    CommandResult inspect = RunCommand({"skopeo", "inspect", ref});
    ASSERT_EQ(inspect.exit_code, 0) << ref << ": " << inspect.err;
    auto j = nlohmann::json::parse(inspect.out);
    EXPECT_EQ(j["Layers"].size(), 2u) << ref;
    if (ref.rfind("docker-archive:", 0) != 0) {
      EXPECT_EQ(j["Digest"], manifest) << ref;  // same image every time
    }
  }
  CommandResult copy = RunCommand({"skopeo", "copy",
                                   "oci-archive:" + path("oci.tar"),
                                   "oci:" + path("copied") + ":v2"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;

  CommandResult unpack =
      RunCommand({"umoci", "unpack", "--rootless", "--image",
                  path("copied") + ":v2", path("bundle")});
  ASSERT_EQ(unpack.exit_code, 0) << unpack.err;
  std::string local = Tree(path("local"));
  EXPECT_EQ(Tree(path("bundle/rootfs")), local);
  EXPECT_NE(local.find("app/start l run"), std::string::npos) << local;

  fs::create_directories(path("from-tar"));
  CommandResult untar =
      RunCommand({"tar", "-xf", path("fs.tar"), "-C", path("from-tar")});
  ASSERT_EQ(untar.exit_code, 0) << untar.err;
  EXPECT_EQ(Tree(path("from-tar")), local);

  // The stored image saves to the same archive contents.
  CommandResult save = RunStrata({"save", "--root", root(), "--format",
                                  "oci", "-o", path("saved.tar"),
                                  "example/outputs:v2"});
  ASSERT_EQ(save.exit_code, 0) << save.err;
  CommandResult saved = RunCommand(
      {"skopeo", "inspect", "oci-archive:" + path("saved.tar")});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_EQ(nlohmann::json::parse(saved.out)["Digest"], manifest);
}

TEST_F(BuildTest, IndependentStagesRunInParallel) {
  NeedTools({"python3"});
  // A server that answers each request after a second, several at a time:
  // two stages fetching from it overlap only if they run side by side.
  dir_.WriteFile("slow.py",
                 "import http.server, time\n"
                 "class H(http.server.BaseHTTPRequestHandler):\n"
                 "    def do_GET(self):\n"
                 "        time.sleep(1)\n"
                 "        body = self.path.encode()\n"
                 "        self.send_response(200)\n"
                 "        self.send_header('Content-Length', str(len(body)))\n"
                 "        self.end_headers()\n"
                 "        self.wfile.write(body)\n"
                 "    def log_message(self, *args):\n"
                 "        pass\n"
                 "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
                 "print('port', s.server_address[1], flush=True)\n"
                 "s.serve_forever()\n");
  BackgroundProcess server({"python3", path("slow.py")});
  ASSERT_TRUE(server.started());
  std::optional<std::string> line = server.WaitForLine("port ", 20s);
  ASSERT_TRUE(line.has_value()) << server.output();
  std::string base = "http://127.0.0.1:" + line->substr(5);
  Write("Dockerfile", "FROM scratch AS a\nADD " + base + "/a /a\n"
                      "FROM scratch AS b\nADD " + base + "/b /b\n"
                      "FROM scratch\nCOPY --from=a /a /a\n"
                      "COPY --from=b /b /b\n");
  CommandResult r = MustBuild({"--output", "type=local,dest=" + path("fs")});
  EXPECT_EQ(*base::ReadFile(path("fs/a")), "/a");
  EXPECT_EQ(*base::ReadFile(path("fs/b")), "/b");
  // Both fetches started before either finished.
  size_t start_a = r.err.find("[a 1/1] ADD");
  size_t start_b = r.err.find("[b 1/1] ADD");
  ASSERT_NE(start_a, std::string::npos) << r.err;
  ASSERT_NE(start_b, std::string::npos) << r.err;
  size_t first_done = r.err.find(" DONE 1.", std::min(start_a, start_b));
  ASSERT_NE(first_done, std::string::npos) << r.err;
  EXPECT_LT(std::max(start_a, start_b), first_done) << r.err;
}

}  // namespace
}  // namespace strata::testing
