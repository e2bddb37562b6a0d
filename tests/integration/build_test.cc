// Building real images end to end: COPY semantics, metadata, multi-stage,
// bases from the store and from OCI layouts, errors.
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "build_fixture.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

TEST_F(BuildTest, ScratchImageWithMetadataToOciLayout) {
  Write("Dockerfile",
        "FROM scratch\n"
        "ENV APP_HOME=/srv/app\n"
        "WORKDIR $APP_HOME\n"
        "COPY hello.txt bin/ ./\n"
        "LABEL org.example.kind=test\n"
        "EXPOSE 8080 53/udp\n"
        "USER 1000:1000\n"
        "ENTRYPOINT [\"/srv/app/tool\"]\n"
        "CMD [\"--help\"]\n");
  Write("hello.txt", "hello\n");
  Write("bin/tool", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(path("ctx/bin/tool").c_str(), 0755), 0);
  CommandResult r = MustBuild({"-t", "example/app:v1", "--label", "extra=1",
                               "--output", "type=oci,dest=" + path("out") +
                                               "/"});
  EXPECT_NE(r.err.find("[2/2] COPY hello.txt bin/ ./"), std::string::npos)
      << r.err;
  LayoutImage img = ReadLayout(path("out"));
  const image::ContainerConfig& c = img.config.config;
  EXPECT_EQ(c.working_dir, "/srv/app");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_EQ(c.labels.at("org.example.kind"), "test");
  EXPECT_EQ(c.labels.at("extra"), "1");
  EXPECT_EQ(c.exposed_ports,
            (std::vector<std::string>{"53/udp", "8080/tcp"}));
  EXPECT_EQ(*c.entrypoint, std::vector<std::string>{"/srv/app/tool"});
  EXPECT_EQ(*c.cmd, std::vector<std::string>{"--help"});
  EXPECT_EQ(c.env, (std::vector<std::string>{
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                       "/usr/bin:/sbin:/bin",
                       "APP_HOME=/srv/app"}));
  // WORKDIR and COPY make layers; the rest are empty history entries.
  ASSERT_EQ(img.manifest.layers.size(), 2u);
  EXPECT_EQ(img.config.diff_ids.size(), 2u);
  std::vector<std::string> created_by;
  int layers = 0;
  for (const image::History& h : img.config.history) {
    created_by.push_back(h.created_by);
    if (!h.empty_layer) ++layers;
    EXPECT_EQ(h.comment, "strata.dockerfile.v0");
  }
  EXPECT_EQ(layers, 2);
  EXPECT_EQ(created_by,
            (std::vector<std::string>{
                "ENV APP_HOME=/srv/app", "WORKDIR /srv/app",
                "COPY hello.txt bin/ ./ # buildkit",
                "LABEL org.example.kind=test",
                "EXPOSE map[53/udp:{} 8080/tcp:{}]", "USER 1000:1000",
                "ENTRYPOINT [\"/srv/app/tool\"]", "CMD [\"--help\"]"}));
  // The layout names the image as BuildKit's exporter does.
  auto index = image::ParseIndex(*base::ReadFile(path("out/index.json")));
  EXPECT_EQ(index->manifests[0].annotations.at(
                "org.opencontainers.image.ref.name"),
            "v1");
}

TEST_F(BuildTest, CopySemanticsInTheFinalFilesystem) {
  Write("Dockerfile",
        "FROM scratch\n"
        "COPY src/ /app/\n"
        "COPY one.txt /app/renamed.txt\n"
        "COPY *.md /docs/\n"
        "COPY --chmod=600 one.txt /secret\n"
        "COPY nothing* /empty/\n"
        "COPY <<EOF /inline.txt\n"
        "inline\n"
        "EOF\n");
  Write("src/a.py", "a");
  Write("src/pkg/b.py", "b");
  Write("one.txt", "one");
  Write("README.md", "readme");
  Write("CHANGES.md", "changes");
  Write(".dockerignore", "src/pkg/b.py\n");
  MustBuild({"--output", "type=local,dest=" + path("fs")});
  EXPECT_EQ(*base::ReadFile(path("fs/app/a.py")), "a");
  EXPECT_FALSE(fs::exists(path("fs/app/pkg/b.py")));  // .dockerignore
  EXPECT_EQ(*base::ReadFile(path("fs/app/renamed.txt")), "one");
  EXPECT_EQ(*base::ReadFile(path("fs/docs/README.md")), "readme");
  EXPECT_EQ(*base::ReadFile(path("fs/docs/CHANGES.md")), "changes");
  EXPECT_EQ(*base::ReadFile(path("fs/inline.txt")), "inline\n");
  struct stat st;
  ASSERT_EQ(::stat(path("fs/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_FALSE(fs::exists(path("fs/empty/x")));
}

TEST_F(BuildTest, MissingSourceIsAnErrorNamingIt) {
  Write("Dockerfile", "FROM scratch\n\nCOPY nope.txt /\n");
  CommandResult r = Build({});
  EXPECT_EQ(r.exit_code, 1);
  std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  EXPECT_NE(last.find("ctx/Dockerfile:3: "), std::string::npos) << r.err;
  EXPECT_NE(last.find("nope.txt"), std::string::npos) << last;
}

TEST_F(BuildTest, MultiStageCopyFromAndTarget) {
  Write("Dockerfile",
        "FROM scratch AS build\n"
        "COPY main.c /src/\n"
        "COPY main.c /out/app\n"
        "FROM scratch AS unused\n"
        "COPY other /other\n"
        "FROM scratch\n"
        "COPY --from=build /out/app /app\n");
  Write("main.c", "int main(){}\n");
  Write("other", "x");
  CommandResult r = MustBuild({"--output", "type=local,dest=" + path("fs")});
  EXPECT_EQ(*base::ReadFile(path("fs/app")), "int main(){}\n");
  EXPECT_FALSE(fs::exists(path("fs/src")));
  // The stage nobody needs is not built.
  EXPECT_EQ(r.err.find("COPY other /other"), std::string::npos) << r.err;
  CommandResult t = MustBuild({"--target", "build", "--output",
                               "type=local,dest=" + path("fs2")});
  EXPECT_TRUE(fs::exists(path("fs2/src/main.c")));
  EXPECT_EQ(t.err.find("COPY --from=build"), std::string::npos);
}

TEST_F(BuildTest, FromAnImageInTheLocalStore) {
  Write("Dockerfile", "FROM scratch\nCOPY base.txt /\nCMD [\"base\"]\n");
  Write("base.txt", "base");
  MustBuild({"-t", "local/base:1"});
  Write("Dockerfile", "FROM local/base:1\nCOPY app.txt /\n");
  Write("app.txt", "app");
  CommandResult r = MustBuild({"--output", "type=local,dest=" + path("fs")});
  EXPECT_EQ(*base::ReadFile(path("fs/base.txt")), "base");
  EXPECT_EQ(*base::ReadFile(path("fs/app.txt")), "app");
  EXPECT_NE(r.err.find("FROM docker.io/local/base:1"), std::string::npos)
      << r.err;
}

TEST_F(BuildTest, FromAnOciLayoutBuildContext) {
  Write("Dockerfile", "FROM scratch\nCOPY base.txt /\n");
  Write("base.txt", "from layout");
  MustBuild({"-t", "layout/base:v2", "--output",
             "type=oci,dest=" + path("layout") + "/"});
  // A fresh root knows nothing of that image but the layout.
  Write("Dockerfile", "FROM mybase\nCOPY app.txt /\n");
  Write("app.txt", "app");
  CommandResult r =
      MustBuild({"--build-context",
                 "mybase=oci-layout://" + path("layout") + ":v2", "--output",
                 "type=local,dest=" + path("fs")},
                path("root2"));
  EXPECT_EQ(*base::ReadFile(path("fs/base.txt")), "from layout");
}

TEST_F(BuildTest, ArgBeforeFromPicksTheBase) {
  Write("Dockerfile", "FROM scratch\nCOPY base.txt /\n");
  Write("base.txt", "one");
  MustBuild({"-t", "local/base:1"});
  Write("base.txt", "two");
  MustBuild({"-t", "local/base:2"});
  Write("Dockerfile",
        "ARG BASE=local/base\nARG TAG=1\nFROM ${BASE}:${TAG} AS app\n"
        "ARG TAG\nLABEL tag=$TAG\n");
  MustBuild({"--output", "type=local,dest=" + path("fs1")});
  EXPECT_EQ(*base::ReadFile(path("fs1/base.txt")), "one");
  CommandResult r = MustBuild({"--build-arg", "TAG=2", "--output",
                               "type=oci,dest=" + path("oci") + "/",
                               "--output", "type=local,dest=" + path("fs2")});
  EXPECT_EQ(*base::ReadFile(path("fs2/base.txt")), "two");
  EXPECT_EQ(ReadLayout(path("oci")).config.config.labels.at("tag"), "2");
  EXPECT_NE(r.err.find("FROM docker.io/local/base:2"), std::string::npos)
      << r.err;
}

TEST_F(BuildTest, OnbuildTriggersRunInTheChild) {
  Write("Dockerfile",
        "FROM scratch\nONBUILD COPY trigger.txt /from-trigger\n"
        "COPY base.txt /\n");
  Write("base.txt", "b");
  Write("trigger.txt", "t");
  MustBuild({"-t", "onbuild/base"});
  Write("Dockerfile", "FROM onbuild/base\nLABEL child=1\n");
  MustBuild({"--output", "type=oci,dest=" + path("out") + "/", "--output",
             "type=local,dest=" + path("fs")});
  EXPECT_EQ(*base::ReadFile(path("fs/from-trigger")), "t");
  LayoutImage img = ReadLayout(path("out"));
  EXPECT_TRUE(img.config.config.on_build.empty());
}

// A base in no store and no reachable registry (loopback, a closed port):
// one line naming the Dockerfile line, the image and why.
TEST_F(BuildTest, RegistryBaseNotAvailableFailsClearly) {
  Write("Dockerfile", "FROM 127.0.0.1:1/python:3.11-slim\nCOPY . /\n");
  CommandResult r = Build({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ctx/Dockerfile:1: pulling "
                       "127.0.0.1:1/python:3.11-slim: GET "),
            std::string::npos)
      << r.err;
}

TEST_F(BuildTest, QuietPrintsOnlyTheImageIdAndIidfileMatches) {
  Write("Dockerfile", "FROM scratch\nCOPY a /\n");
  Write("a", "a");
  CommandResult r =
      RunStrata({"build", "--root", root(), "-q", "--iidfile",
                 path("iid"), ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(r.out.size(), 7u + 64 + 1) << r.out;
  EXPECT_EQ(r.out.rfind("sha256:", 0), 0u);
  EXPECT_EQ(*base::ReadFile(path("iid")) + "\n", r.out);
}

TEST_F(BuildTest, ChownByNameUsesTheImagesPasswd) {
  Write("Dockerfile",
        "FROM scratch\n"
        "COPY etc/ /etc/\n"
        "COPY --chown=app:staff data.txt /home/app/\n"
        "USER app\n"
        "WORKDIR /work/here\n");
  Write("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  Write("etc/group", "root:x:0:\nstaff:x:50:\n");
  Write("data.txt", "d");
  MustBuild({"--output", "type=tar,dest=" + path("fs.tar")});
  CommandResult ls = RunCommand({"tar", "-tvf", path("fs.tar"),
                                 "--numeric-owner"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("1000/50"), std::string::npos) << ls.out;
  // WORKDIR's new directories belong to USER.
  size_t here = ls.out.find("work/here");
  ASSERT_NE(here, std::string::npos) << ls.out;
  size_t line = ls.out.rfind('\n', here) + 1;
  EXPECT_NE(ls.out.substr(line, here - line).find("1000/1000"),
            std::string::npos)
      << ls.out.substr(line, here - line);
}

TEST_F(BuildTest, ConcurrentBuildsShareAStoreRoot) {
  Write("Dockerfile", "FROM scratch\nCOPY . /\n");
  for (int i = 0; i < 50; ++i) Write("f" + std::to_string(i), "x");
  CommandResult a, b;
  std::thread ta([&] { a = Build({"-t", "c/a"}); });
  std::thread tb([&] { b = Build({"-t", "c/b"}); });
  ta.join();
  tb.join();
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(b.exit_code, 0) << b.err;
  CommandResult images = RunStrata({"images", "--root", root()});
  EXPECT_NE(images.out.find("c/a"), std::string::npos) << images.out;
  EXPECT_NE(images.out.find("c/b"), std::string::npos) << images.out;
}

TEST_F(BuildTest, IndexInALayoutResolvesToTheRequestedPlatform) {
  // Two single-platform layouts merged into one layout whose tag names an
  // image index, as a multi-platform base looks on disk.
  Write("Dockerfile", "FROM scratch\nARG TARGETARCH\nCOPY $TARGETARCH.txt /arch\n");
  Write("arm64.txt", "arm");
  Write("amd64.txt", "amd");
  nlohmann::json manifests = nlohmann::json::array();
  for (std::string arch : {"arm64", "amd64"}) {
    std::string one = path("one-" + arch);
    MustBuild({"--platform", "linux/" + arch, "--output",
               "type=oci,dest=" + one + "/"});
    fs::create_directories(path("multi/blobs/sha256"));
    for (const auto& blob : fs::directory_iterator(one + "/blobs/sha256")) {
      fs::copy(blob.path(), path("multi/blobs/sha256") / blob.path().filename(),
               fs::copy_options::skip_existing);
    }
    dir_.WriteFile("multi/oci-layout", *base::ReadFile(one + "/oci-layout"));
    auto index = nlohmann::json::parse(*base::ReadFile(one + "/index.json"));
    nlohmann::json d = index["manifests"][0];
    d.erase("annotations");
    d["platform"] = {{"architecture", arch}, {"os", "linux"}};
    manifests.push_back(d);
  }
  nlohmann::json nested = {{"schemaVersion", 2},
                           {"mediaType", "application/vnd.oci.image.index.v1+json"},
                           {"manifests", manifests}};
  std::string nested_text = nested.dump();
  base::Digest nested_digest = base::Digest::Of(nested_text);
  dir_.WriteFile("multi/blobs/sha256/" + nested_digest.hex(), nested_text);
  nlohmann::json top = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests",
       {{{"mediaType", "application/vnd.oci.image.index.v1+json"},
         {"digest", nested_digest.ToString()},
         {"size", nested_text.size()},
         {"annotations", {{"org.opencontainers.image.ref.name", "multi"}}}}}}};
  dir_.WriteFile("multi/index.json", top.dump());

  Write("Dockerfile", "FROM base\n");
  std::string context = "base=oci-layout://" + path("multi") + ":multi";
  for (std::string arch : {"arm64", "amd64"}) {
    MustBuild({"--build-context", context, "--platform", "linux/" + arch,
               "--output", "type=local,dest=" + path("fs-" + arch)});
    EXPECT_EQ(*base::ReadFile(path("fs-" + arch + "/arch")),
              arch == "arm64" ? "arm" : "amd");
  }
  CommandResult none = Build({"--build-context", context, "--platform",
                              "linux/s390x", "-q"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("linux/s390x"), std::string::npos) << none.err;
  EXPECT_TRUE(none.err.find('\n') == none.err.size() - 1) << none.err;
}

TEST_F(BuildTest, SeveralPlatformsAtOnceAreRefusedPlainly) {
  Write("Dockerfile", "FROM scratch\n");
  CommandResult r = Build({"--platform", "linux/amd64,linux/arm64", "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("several platforms"), std::string::npos) << r.err;
}

TEST_F(BuildTest, UnusedBuildArgIsWarnedLikeDocker) {
  Write("Dockerfile", "FROM scratch\nARG USED\nLABEL used=$USED\n");
  CommandResult r = MustBuild({"--build-arg", "USED=1", "--build-arg",
                               "NOPE=2"});
  EXPECT_NE(r.err.find("[Warning] One or more build-args [NOPE] were not "
                       "consumed"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("[USED]"), std::string::npos) << r.err;
}

TEST_F(BuildTest, BaseLayersAreUnpackedOncePerStore) {
  Write("Dockerfile", "FROM scratch\nCOPY etc/ /etc/\n");
  Write("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:7:7::/:/bin/sh\n");
  Write("etc/group", "root:x:0:\napp:x:7:\n");
  MustBuild({"-t", "local/users:1"});
  fs::remove_all(ctx());
  // Two builds on that base, each reading its files (--chown by name).
  struct stat first {};
  for (int i = 0; i < 2; ++i) {
    Write("Dockerfile", "FROM local/users:1\nCOPY --chown=app f /f\n");
    Write("f", "build " + std::to_string(i));
    CommandResult r = MustBuild({"--output",
                                 "type=local,dest=" + path("fs")});
    std::vector<std::string> base_dirs;
    for (const auto& e : fs::directory_iterator(root() + "/layers")) {
      if (fs::exists(e.path() / "etc/passwd")) base_dirs.push_back(e.path());
    }
    ASSERT_EQ(base_dirs.size(), 1u);
    struct stat st {};
    ASSERT_EQ(::stat((base_dirs[0] + "/etc/passwd").c_str(), &st), 0);
    if (i == 0) {
      first = st;
    } else {
      // The very same unpacked file, not a second extraction.
      EXPECT_EQ(st.st_ino, first.st_ino);
      EXPECT_EQ(st.st_mtim.tv_nsec, first.st_mtim.tv_nsec);
    }
  }
}

TEST_F(BuildTest, AnnotationsGoOnTheManifest) {
  Write("Dockerfile", "FROM scratch\nCOPY a /\n");
  Write("a", "a");
  MustBuild({"--annotation", "org.opencontainers.image.source=https://x.test",
             "--annotation", "manifest:org.example.note=hi", "--output",
             "type=oci,dest=" + path("out") + "/"});
  LayoutImage img = ReadLayout(path("out"));
  EXPECT_EQ(img.manifest.annotations,
            (std::map<std::string, std::string>{
                {"org.example.note", "hi"},
                {"org.opencontainers.image.source", "https://x.test"}}));
  CommandResult bad = Build({"--annotation", "index:k=v"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--annotation"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace strata::testing
