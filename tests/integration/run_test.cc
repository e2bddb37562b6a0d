// RUN end to end: strata builds on the busybox base (made from Debian's
// busybox-static by scripts/make-busybox-base.sh) and runs commands in its
// sandbox; the layers are read back from the OCI layout.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "build_fixture.h"
#include "support/background_process.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

class RunTest : public BuildTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists("/bin/busybox"))
        << "Debian's busybox-static is needed (scripts/install-deps.sh)";
    CommandResult base = RunCommand(
        {"bash", TestdataPath("../scripts/make-busybox-base.sh"),
         STRATA_BINARY, path("base"), "--root", root(), "-q"});
    ASSERT_EQ(base.exit_code, 0) << base.err;
  }

  std::vector<std::string> WithBase(std::vector<std::string> args) {
    args.insert(args.begin(),
                {"--build-context",
                 "busybox=oci-layout://" + path("base/busybox-oci") +
                     ":latest"});
    return args;
  }

  /// "name|type|uid/gid" of every entry of a gzip layer in layout `dir`.
  std::string LayerListing(const std::string& dir,
                           const image::Descriptor& layer) {
    CommandResult list = RunCommand(
        {"tar", "--numeric-owner", "-tvzf",
         dir + "/blobs/sha256/" + layer.digest.hex()});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    std::string out;
    std::istringstream lines(list.out);
    for (std::string line; std::getline(lines, line);) {
      // "drwxr-xr-x 0/0 0 1970-01-01 00:00 name"
      std::istringstream f(line);
      std::string mode, owner, size, date, time, name;
      f >> mode >> owner >> size >> date >> time >> name;
      out += name + "|" + mode[0] + "|" + owner + "\n";
    }
    return out;
  }
};

TEST_F(RunTest, RunMakesALayerOfWhatItChanged) {
  Write("Dockerfile",
        "FROM busybox\n"
        "ARG NAME=world\n"
        "RUN echo \"hello $NAME\" > /hello.txt && rm /bin/vi && "
        "mkdir -p /data && chown www:www /data && echo ran\n"
        "USER www\n"
        "RUN id -u > /tmp/whoami\n"
        "USER root\n"
        "RUN <<EOF\n#!/bin/sh\necho \"shebang as $(id -un)\" > /shebang.txt\nEOF\n"
        "RUN --network=none cat /proc/net/dev | grep -c : > /ifaces\n");
  CommandResult r = MustBuild(WithBase(
      {"--output", "type=oci,dest=" + path("out") + "/", "--output",
       "type=local,dest=" + path("fs")}));
  EXPECT_NE(r.err.find(" ran\n"), std::string::npos) << "live output: "
                                                      << r.err;
  EXPECT_EQ(*base::ReadFile(path("fs/hello.txt")), "hello world\n");
  EXPECT_EQ(*base::ReadFile(path("fs/tmp/whoami")), "1000\n");
  EXPECT_EQ(*base::ReadFile(path("fs/shebang.txt")), "shebang as root\n");
  EXPECT_EQ(*base::ReadFile(path("fs/ifaces")), "1\n");
  EXPECT_FALSE(fs::exists(path("fs/bin/vi")));
  EXPECT_TRUE(fs::exists(path("fs/bin/sh")));

  LayoutImage img = ReadLayout(path("out"));
  ASSERT_EQ(img.manifest.layers.size(), 5u);  // base + 4 RUN layers
  std::string first = LayerListing(path("out"), img.manifest.layers[1]);
  EXPECT_EQ(first,
            "bin/|d|0/0\n"
            "bin/.wh.vi|-|0/0\n"
            "data/|d|1000/1000\n"
            "hello.txt|-|0/0\n")
      << "only the changes; no /proc, /dev, /sys or /etc mount points";
  std::string created_by = img.config.history[4].created_by;
  EXPECT_EQ(created_by.rfind("RUN |1 NAME=world /bin/sh -c echo", 0), 0u)
      << created_by;

  // Unchanged: every step cached, same image.
  CommandResult again = MustBuild(WithBase(
      {"--output", "type=oci,dest=" + path("out2") + "/"}));
  EXPECT_EQ(Count(again.err, "CACHED"), 4) << again.err;
  EXPECT_EQ(ReadLayout(path("out2")).manifest_digest, img.manifest_digest);
  // A build arg the RUN uses changes its key.
  CommandResult other = MustBuild(WithBase({"--build-arg", "NAME=strata"}));
  EXPECT_EQ(Count(other.err, "CACHED"), 0) << other.err;
}

TEST_F(RunTest, WithoutOverlayfsTheCopyFallbackGivesTheSameImage) {
  Write("Dockerfile",
        "FROM busybox\n"
        "RUN echo hi > /hello.txt && rm /bin/vi && mkdir -p /data && "
        "chown www:www /data && rm -r /root && chmod 755 /etc && touch /bin/busybox\n"
        "USER www\n"
        "RUN id -u > /tmp/whoami\n");
  std::vector<std::string> args = WithBase(
      {"--source-date-epoch", "1000", "--metadata-file", ""});
  args[args.size() - 1] = path("overlay.json");
  MustBuild(args);
  env_ = {"STRATA_SANDBOX_COPY=1"};
  args[args.size() - 1] = path("copy.json");
  CommandResult copy = MustBuild(args, path("root-copy"));
  EXPECT_NE(copy.err.find("copies the root file system"), std::string::npos)
      << copy.err;
  auto digest = [&](const std::string& file) {
    return nlohmann::json::parse(*base::ReadFile(file))["containerimage.digest"];
  };
  EXPECT_EQ(digest(path("copy.json")), digest(path("overlay.json")))
      << "the fallback must produce the same layers";
}

TEST_F(RunTest, AFailingRunStopsTheBuildWithBuildKitsWording) {
  Write("Dockerfile",
        "FROM busybox\nRUN echo before\nRUN echo output && exit 3\n"
        "RUN echo never\n");
  CommandResult r = Build(WithBase({}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ctx/Dockerfile:3: process \"/bin/sh -c echo output "
                       "&& exit 3\" did not complete successfully: exit "
                       "code: 3"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("output"), std::string::npos);
  EXPECT_EQ(r.err.find("never"), std::string::npos);
  // Nothing half-done is left: no run dir in the store's tmp.
  for (const auto& e : fs::directory_iterator(root() + "/tmp")) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
  // The step that passed is cached for the next build.
  Write("Dockerfile", "FROM busybox\nRUN echo before\n");
  CommandResult next = MustBuild(WithBase({}));
  EXPECT_EQ(Count(next.err, "CACHED"), 1) << next.err;
}

TEST_F(RunTest, RunOnScratchNeedsACommandInTheImage) {
  Write("Dockerfile", "FROM scratch\nRUN true\n");
  CommandResult r = Build({"-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/bin/sh"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit code: 127"), std::string::npos) << r.err;
}

TEST_F(RunTest, RunMountsCacheSecretTmpfsAndBind) {
  Write(".dockerignore", "private.env\n");
  Write("private.env", "IGNORED=1\n");
  Write("req.txt", "flask==3.0\n");
  Write("token.txt", "s3cret");  // checked by length: never in the file
  Write("Dockerfile",
        "FROM busybox AS builder\n"
        "RUN mkdir /out && echo built > /out/a\n"
        "FROM busybox\n"
        "RUN --mount=type=cache,target=/var/cache/app "
        "echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /count\n"
        "RUN --mount=type=secret,id=token "
        "test $(wc -c < /run/secrets/token) = 6 && echo secret-file-ok\n"
        "RUN --mount=type=secret,id=token,env=TOKEN "
        "test ${#TOKEN} = 6 && echo secret-env-ok\n"
        "RUN --mount=type=tmpfs,target=/scratch "
        "echo x > /scratch/f && grep -q ' /scratch tmpfs' /proc/mounts && "
        "echo tmpfs-ok\n"
        "RUN --mount=type=bind,source=req.txt,target=/req.txt "
        "cat /req.txt > /copied-req\n"
        "RUN --mount=type=bind,target=/ctx,rw ls -a /ctx > /ctx-list && "
        "touch /ctx/written-by-run\n"
        "RUN --mount=type=bind,from=builder,source=/out,target=/b "
        "cat /b/a > /from-builder\n");
  std::vector<std::string> args = WithBase(
      {"--secret", "id=token,src=" + path("ctx/token.txt"), "--output",
       "type=oci,dest=" + path("out") + "/", "--output",
       "type=local,dest=" + path("fs")});
  CommandResult r = MustBuild(args);
  for (const char* ok : {"secret-file-ok", "secret-env-ok", "tmpfs-ok"}) {
    EXPECT_NE(r.err.find(ok), std::string::npos) << ok << "\n" << r.err;
  }
  EXPECT_EQ(*base::ReadFile(path("fs/count")), "1\n");
  EXPECT_EQ(*base::ReadFile(path("fs/copied-req")), "flask==3.0\n");
  EXPECT_EQ(*base::ReadFile(path("fs/from-builder")), "built\n");
  std::string listing = *base::ReadFile(path("fs/ctx-list"));
  EXPECT_NE(listing.find("req.txt"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("private.env"), std::string::npos)
      << ".dockerignore'd files are not bound: " << listing;
  EXPECT_FALSE(fs::exists(path("ctx/written-by-run"))) << "rw writes discarded";
  // No mount point and no secret reached the image.
  for (const char* gone : {"run/secrets", "scratch", "req.txt", "ctx", "b",
                           "var/cache/app/log"}) {
    EXPECT_FALSE(fs::exists(path("fs/") + gone)) << gone;
  }
  LayoutImage img = ReadLayout(path("out"));
  for (const image::History& h : img.config.history) {
    EXPECT_EQ(h.created_by.find("s3cret"), std::string::npos);
  }
  for (const image::Descriptor& l : img.manifest.layers) {
    CommandResult grep = RunCommand(
        {"sh", "-c", "gzip -dc " + path("out") + "/blobs/sha256/" +
                         l.digest.hex() + " | grep -c s3cret || true"});
    EXPECT_EQ(grep.out, "0\n") << "secret in layer " << l.digest.ToString();
  }

  // A new secret value does not re-run; a changed bound file does; the
  // cache mount keeps its content across builds.
  Write("token.txt", "0ther!");
  Write("req.txt", "flask==3.1\n");
  CommandResult again = MustBuild(WithBase(
      {"--secret", "id=token,src=" + path("ctx/token.txt"), "--output",
       "type=local,dest=" + path("fs2")}));
  EXPECT_EQ(*base::ReadFile(path("fs2/copied-req")), "flask==3.1\n");
  EXPECT_EQ(Count(again.err, "CACHED"), 5) << again.err;
  CommandResult fresh = MustBuild(WithBase(
      {"--no-cache", "--secret", "id=token,src=" + path("ctx/token.txt"),
       "--output", "type=local,dest=" + path("fs3")}));
  EXPECT_EQ(*base::ReadFile(path("fs3/count")), "2\n");

  // A required secret that is not given fails naming it.
  Write("Dockerfile",
        "FROM busybox\nRUN --mount=type=secret,id=missing,required=true true\n");
  CommandResult missing = Build(WithBase({"-q"}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("secret missing"), std::string::npos)
      << missing.err;
}

// type=cache,from=: a new cache starts as a copy of the stage's source
// dir, persists like any cache, and is another cache than one without it.
TEST_F(RunTest, CacheMountFromAStageStartsAsItsCopy) {
  Write("Dockerfile",
        "FROM busybox AS seed\n"
        "RUN mkdir -p /deps/sub && echo seeded > /deps/sub/file\n"
        "FROM busybox\n"
        "RUN --mount=type=cache,target=/c,from=seed,source=/deps "
        "cat /c/sub/file && echo more > /c/more\n"
        "RUN --mount=type=cache,target=/c,from=seed,source=/deps "
        "cat /c/more > /saw-more\n"
        "RUN --mount=type=cache,target=/c ls /c | wc -l > /plain-count\n");
  CommandResult r = MustBuild(
      WithBase({"--output", "type=local,dest=" + path("fs")}));
  EXPECT_NE(r.err.find("seeded"), std::string::npos) << r.err;
  EXPECT_EQ(*base::ReadFile(path("fs/saw-more")), "more\n");
  EXPECT_EQ(*base::ReadFile(path("fs/plain-count")), "0\n");
  EXPECT_FALSE(fs::exists(path("fs/c/sub")));  // the mount left nothing
}

TEST_F(RunTest, ContainmentTheHostIsUntouched) {
  // Markers a RUN tries to write on the host, by every road out.
  std::string marker = "strata-escape-" + std::to_string(::getpid());
  std::string host_dir = path("host-target");
  fs::create_directories(host_dir);
  Write("Dockerfile",
        "FROM busybox\n"
        // a symlink planted by an earlier layer, absolute and relative
        "RUN ln -s " + host_dir + " /planted && ln -s ../../../../../.." +
            host_dir + " /planted-rel\n"
        // the same path exists inside, so every write has a place to land
        "RUN mkdir -p " + host_dir + " && echo x > /planted/" + marker + "; "
        "echo x > /planted-rel/" + marker + "; "
        "echo x > " + host_dir + "/" + marker + "; "
        "echo x > /../../../../" + host_dir + "/" + marker + "; "
        "echo x > /proc/self/root" + host_dir + "/" + marker + "; "
        "echo x > /proc/1/root" + host_dir + "/" + marker + "; "
        "mkdir -p /mnt && mount --bind / /mnt && echo mounted; "
        "mount -t tmpfs none /tmp && echo tmpfs-mounted; "
        "echo done\n");
  CommandResult r = MustBuild(WithBase(
      {"--output", "type=local,dest=" + path("fs")}));
  EXPECT_NE(r.err.find(" done\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("mounted\n"), std::string::npos) << r.err;
  // Nothing reached the host...
  EXPECT_TRUE(fs::is_empty(host_dir)) << "the host dir was written";
  EXPECT_FALSE(fs::exists("/" + marker));
  // ...and the writes landed in the image instead.
  EXPECT_TRUE(fs::exists(path("fs") + host_dir + "/" + marker));
}

// strata run by an unprivileged user: RUN in a user namespace where root
// is that user, and layers that still say root (and keep the owners the
// base gave its files, which a non-root process cannot chown).
TEST_F(RunTest, RootlessBuildRecordsTheOwnersARootBuildWould) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a test user";
  const std::string user = "strata-rootless";
  ASSERT_EQ(EnsureRootlessUser(user), "");
  // A base whose file belongs to 1000, built as root.
  Write("owned.txt", "owned\n");
  Write("Dockerfile", "FROM busybox\nCOPY --chown=1000:1000 owned.txt /owned\n");
  MustBuild(WithBase({"-t", "test/owned:latest", "--output",
                      "type=oci,dest=" + path("owned-oci") + "/"}));

  std::string work = path("rootless");
  fs::create_directories(work + "/ctx");
  fs::copy(path("owned-oci"), work + "/owned-oci", fs::copy_options::recursive);
  dir_.WriteFile("rootless/ctx/Dockerfile",
                 "FROM owned\n"
                 "RUN echo hi > /root/x && mkdir /data && echo more >> /owned "
                 "&& id -u\n");
  // Without subordinate ids: the single-id map (the workload tests cover
  // the mapped namespace).
  CommandResult r = RunStrataAs(
      user, work,
      {"build", "--root", work + "/root", "--progress=plain",
       "--build-context", "owned=oci-layout://" + work + "/owned-oci:latest",
       "--output", "type=oci,dest=" + work + "/out/", work + "/ctx"},
      {"STRATA_SUBIDS=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(" 0\n"), std::string::npos) << "root inside: " << r.err;
  LayoutImage img = ReadLayout(work + "/out");
  ASSERT_EQ(img.manifest.layers.size(), 3u);
  EXPECT_EQ(LayerListing(work + "/out", img.manifest.layers[2]),
            "data/|d|0/0\n"
            "owned|-|1000/1000\n"
            "root/|d|0/0\n"
            "root/x|-|0/0\n");
  EXPECT_TRUE(fs::is_directory(work + "/root/layers-rootless"));

  // USER other than root cannot work with one id mapped: the error says
  // what would make it work.
  dir_.WriteFile("rootless/ctx/Dockerfile", "FROM owned\nUSER 1000\nRUN true\n");
  r = RunStrataAs(
      user, work,
      {"build", "--root", work + "/root", "--progress=plain",
       "--build-context", "owned=oci-layout://" + work + "/owned-oci:latest",
       work + "/ctx"},
      {"STRATA_SUBIDS=0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/etc/subuid"), std::string::npos) << r.err;
}

TEST_F(RunTest, SshMountForwardsTheAgentSocket) {
  ASSERT_EQ(RunCommand({"sh", "-c", "command -v ssh-agent"}).exit_code, 0)
      << "ssh-agent is needed (scripts/install-deps.sh --test)";
  std::string sock = path("agent.sock");
  BackgroundProcess agent({"ssh-agent", "-D", "-a", sock});
  ASSERT_TRUE(agent.started());
  ASSERT_TRUE(agent.WaitForLine("SSH_AUTH_SOCK", std::chrono::seconds(20)))
      << agent.output();
  Write("Dockerfile",
        "FROM busybox\n"
        "RUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && "
        "echo ssh-ok:$SSH_AUTH_SOCK\n"
        "RUN --mount=type=ssh,id=other echo skipped-ok\n");
  CommandResult r = MustBuild(WithBase(
      {"--ssh", "default=" + sock, "--output",
       "type=local,dest=" + path("fs")}));
  EXPECT_NE(r.err.find("ssh-ok:/run/buildkit/ssh_agent.0"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("skipped-ok"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("fs/run/buildkit"))) << "no mount point left";

  Write("Dockerfile",
        "FROM busybox\nRUN --mount=type=ssh,id=other,required=true true\n");
  CommandResult missing = Build(WithBase({"--ssh", "default=" + sock}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no SSH agent other"), std::string::npos)
      << missing.err;
  CommandResult bad = Build(WithBase({"--ssh", "default=" + path("ctx")}));
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("not an SSH agent socket"), std::string::npos)
      << bad.err;
}

// Every mount whose path lies under `dir`.
std::string MountsUnder(const std::string& dir) {
  std::string out;
  std::istringstream mounts(*base::ReadFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);) {
    if (line.find(dir) != std::string::npos) out += line + "\n";
  }
  return out;
}

class RunInterruptTest : public RunTest,
                         public ::testing::WithParamInterface<int> {};

TEST_P(RunInterruptTest, SignalMidRunLeavesNothingAndTheNextBuildWorks) {
  Write("Dockerfile",
        // printf: the step's name must not hold the words it prints.
        "FROM busybox\nRUN printf 'sta%s\\n' rted && sleep 61 && "
        "printf 'fin%s\\n' ished\n");
  std::vector<std::string> argv = {STRATA_BINARY, "build", "--root", root(),
                                   "--progress=plain"};
  for (const std::string& a : WithBase({})) argv.push_back(a);
  argv.push_back(ctx());
  BackgroundProcess strata(argv);
  ASSERT_TRUE(strata.started());
  ASSERT_TRUE(strata.WaitForLine(" started", std::chrono::seconds(60)))
      << strata.output();
  strata.Signal(GetParam());
  std::optional<int> code = strata.Wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "strata did not stop: " << strata.output();
  EXPECT_NE(*code, 0);
  EXPECT_EQ(strata.output().find("finished"), std::string::npos)
      << strata.output();
  // The sandbox died with strata: no process is left, and no mount (the
  // sandbox's mounts live in its own namespace; none may leak into ours).
  for (int i = 0; i < 50 && !MountsUnder(root()).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(MountsUnder(root()), "");
  CommandResult ps = RunCommand({"sh", "-c", "pgrep -f '^sleep 61$' || true"});
  EXPECT_EQ(ps.out, "") << "a sandboxed process outlived strata";

  // The next build works, and its start cleared the dead build's temp dir.
  Write("Dockerfile", "FROM busybox\nRUN echo second\n");
  MustBuild(WithBase({}));
  for (const auto& e : fs::directory_iterator(root() + "/tmp")) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, RunInterruptTest,
                         ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SIGINT ? "SIGINT" : "SIGTERM";
                         });

}  // namespace
}  // namespace strata::testing
