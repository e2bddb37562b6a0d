// Real workloads on a real Debian base: the python-slim-like image that
// scripts/make-debian-base.sh debootstraps (cached outside the clone), the
// ML-service context of scripts/make-ml-context.py with its wheelhouse,
// the team's ml-app Dockerfiles as written, useradd and USER, rootless
// with subordinate ids, and apt-get against the configured Debian mirror.
// Results are unpacked with umoci and run with chroot.
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "build_fixture.h"
#include "support/registry_server.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kBaseName[] = "127.0.0.1:5000/python:3.11-slim";
constexpr char kRootlessUser[] = "strata-rootless";
constexpr char kEpoch[] = "1700000000";

class WorkloadTest : public BuildTest {
 protected:
  static void SetUpTestSuite() {
    // Instant when cached; the ctest fixture "fixture.debian_base" made it.
    CommandResult r = RunCommand(
        {"bash", TestdataPath("../scripts/make-debian-base.sh")});
    if (r.exit_code != 0) {
      base_error_ = r.err;
      return;
    }
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) base_layout_ = line;
    }
  }

  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the workload tests run as root";
    ASSERT_FALSE(base_layout_.empty())
        << "scripts/make-debian-base.sh failed: " << base_error_;
  }

  /// The Debian base under `name`, as the ml-app Dockerfiles name it.
  std::vector<std::string> WithBase(std::vector<std::string> args,
                                    const std::string& name = kBaseName) {
    args.insert(args.begin(),
                {"--build-context",
                 name + "=oci-layout://" + base_layout_ + ":3.11-slim"});
    return args;
  }

  /// The ML-service context, small, in ctx().
  void MakeMlContext() {
    CommandResult r = RunCommand(
        {"python3", TestdataPath("../scripts/make-ml-context.py"), ctx(),
         "--scale", "small"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  /// umoci's unpacked rootfs of `layout_dir` (tag `tag`).
  std::string Unpack(const std::string& layout_dir, const std::string& tag) {
    std::string bundle = layout_dir + "-bundle";
    CommandResult r = RunCommand(
        {"umoci", "unpack", "--image", layout_dir + ":" + tag, bundle});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return bundle + "/rootfs";
  }

  /// `argv` run chrooted in `rootfs` with the image's environment.
  CommandResult InRootfs(const std::string& rootfs,
                         std::vector<std::string> argv,
                         std::vector<std::string> env = {}) {
    std::vector<std::string> full = {
        "chroot", rootfs, "/usr/bin/env", "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    full.insert(full.end(), env.begin(), env.end());
    full.insert(full.end(), argv.begin(), argv.end());
    return RunCommand(full);
  }

  /// "name owner" per entry of every layer above the base, in order
  /// (files dpkg and useradd rewrite with dates are left out).
  std::string Owners(const std::string& layout_dir) {
    LayoutImage img = ReadLayout(layout_dir);
    std::string out;
    for (size_t i = 1; i < img.manifest.layers.size(); ++i) {
      CommandResult list = RunCommand(
          {"tar", "--numeric-owner", "-tvzf",
           layout_dir + "/blobs/sha256/" +
               img.manifest.layers[i].digest.hex()});
      EXPECT_EQ(list.exit_code, 0) << list.err;
      std::istringstream lines(list.out);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream f(line);
        std::string mode, owner, size, date, time, name;
        f >> mode >> owner >> size >> date >> time >> name;
        out += name + " " + owner + "\n";
      }
      out += "--\n";
    }
    return out;
  }

  /// Builds as the rootless test user (subordinate ids mapped) in a work
  /// dir of its own, path("rootless"), holding a copy of ctx() and the
  /// OCI layout written, `out_dir` (inside the work dir).
  CommandResult BuildRootless(std::vector<std::string> args,
                              const std::string& out_dir) {
    std::string work = path("rootless");
    fs::create_directories(work);
    fs::copy(ctx(), work + "/ctx", fs::copy_options::recursive);
    EXPECT_EQ(out_dir.rfind(work + "/", 0), 0u) << out_dir;
    std::vector<std::string> full = {"build", "--root", work + "/root",
                                     "--progress=plain", "--output",
                                     "type=oci,dest=" + out_dir + "/"};
    full.insert(full.end(), args.begin(), args.end());
    full.push_back(work + "/ctx");
    fs::create_directories(out_dir);
    return RunStrataAs(kRootlessUser, work, full);
  }

  static std::string base_layout_;
  static std::string base_error_;
};

std::string WorkloadTest::base_layout_;
std::string WorkloadTest::base_error_;

// The rootless case and the seeds' non-root pattern on Debian:
// useradd, chown, USER, RUN and COPY --chown as that user. Built by root
// and by an unprivileged user whose /etc/subuid ranges strata maps; the
// two images are the same, byte for byte.
TEST_F(WorkloadTest, RootlessWithSubordinateIdsBuildsWhatRootBuilds) {
  ASSERT_EQ(EnsureRootlessUser(kRootlessUser), "");
  Write("Dockerfile",
        "FROM debian\n"
        "RUN useradd -u 1000 app && mkdir /data && chown app /data\n"
        "RUN echo hi > /root/x\n"
        "RUN useradd -m appuser\n"
        "USER appuser\n"
        "RUN touch /home/appuser/made && id -un > /home/appuser/whoami\n"
        "COPY --chown=appuser:appuser notes.txt /home/appuser/notes.txt\n");
  Write("notes.txt", "notes\n");
  std::vector<std::string> args = WithBase(
      {"--source-date-epoch", kEpoch, "-t", "test/users:v1"}, "debian");
  std::vector<std::string> root_args = args;
  root_args.insert(root_args.end(),
                   {"--output", "type=oci,dest=" + path("root-oci") + "/"});
  MustBuild(root_args);
  CommandResult r = BuildRootless(args, path("rootless/oci"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("note:"), std::string::npos) << r.err;

  std::string owners = Owners(path("root-oci"));
  EXPECT_NE(owners.find("data/ 1000/0\n"), std::string::npos) << owners;
  EXPECT_NE(owners.find("root/x 0/0\n"), std::string::npos) << owners;
  EXPECT_NE(owners.find("home/appuser/made 1001/1001\n"), std::string::npos)
      << owners;
  EXPECT_NE(owners.find("home/appuser/notes.txt 1001/1001\n"),
            std::string::npos)
      << owners;
  EXPECT_EQ(Owners(path("rootless/oci")), owners);
  EXPECT_EQ(ReadLayout(path("rootless/oci")).manifest_digest,
            ReadLayout(path("root-oci")).manifest_digest);

  std::string rootfs = Unpack(path("root-oci"), "v1");
  EXPECT_EQ(*base::ReadFile(rootfs + "/home/appuser/whoami"), "appuser\n");
}

// The ml-app Dockerfile as written (FROM 127.0.0.1:5000/python:3.11-slim,
// the base given by --build-context): pip installs the wheelhouse, the
// packages import in the built rootfs, and a code edit leaves the pip
// layer cached.
TEST_F(WorkloadTest, MlServiceInstallsItsPackagesAndCachesThePipStep) {
  MakeMlContext();
  CommandResult first = MustBuild(WithBase(
      {"-t", "test/ml:v1", "--output", "type=oci,dest=" + path("ml-oci") + "/"}));
  LayoutImage img = ReadLayout(path("ml-oci"));
  EXPECT_EQ(img.config.config.working_dir, "/app");
  ASSERT_TRUE(img.config.config.cmd);
  ASSERT_EQ(img.config.config.cmd->size(), 6u);
  EXPECT_EQ(img.config.config.cmd->at(0), "benchcorn");

  std::string rootfs = Unpack(path("ml-oci"), "v1");
  CommandResult imported = InRootfs(
      rootfs,
      {"python3", "-c",
       "import benchapi, benchcorn, benchpydantic, benchnum, benchframe, "
       "benchlearn, benchtok, mlsvc.main; print('imported')"},
      {"PYTHONPATH=/app/src"});
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.out, "imported\n");
  EXPECT_TRUE(fs::exists(rootfs + "/usr/local/bin/benchcorn"));
  EXPECT_TRUE(fs::exists(rootfs + "/app/requirements.txt"));
  EXPECT_TRUE(fs::exists(rootfs + "/app/models/model.bin"));
  // .dockerignore'd clutter stays out.
  EXPECT_FALSE(fs::exists(rootfs + "/app/tests"));
  EXPECT_FALSE(fs::exists(rootfs + "/app/.venv"));

  // A code edit: the pip step stays cached, COPY . . runs again.
  std::string main_py = ctx() + "/src/mlsvc/main.py";
  Write("src/mlsvc/main.py", *base::ReadFile(main_py) + "# edited\n");
  CommandResult edit = MustBuild(WithBase({"-t", "test/ml:v2"}));
  size_t pip = edit.err.find("RUN pip install");
  ASSERT_NE(pip, std::string::npos) << edit.err;
  size_t pip_end = edit.err.find("\n\n", pip);
  EXPECT_NE(edit.err.substr(pip, pip_end - pip).find(" CACHED"),
            std::string::npos)
      << edit.err;
  size_t copy_all = edit.err.find("COPY . .");
  ASSERT_NE(copy_all, std::string::npos) << edit.err;
  EXPECT_EQ(edit.err.substr(copy_all, edit.err.find("\n\n", copy_all) - copy_all)
                .find(" CACHED"),
            std::string::npos)
      << edit.err;
}

// Dockerfile.multistage as written: wheels installed in a builder stage,
// the tree copied into a runtime stage that adds a system user (useradd)
// and files owned by it; rootless with subordinate ids gives the same
// files and owners.
TEST_F(WorkloadTest, MlServiceMultistageRootAndRootless) {
  ASSERT_EQ(EnsureRootlessUser(kRootlessUser), "");
  MakeMlContext();
  std::vector<std::string> args = WithBase(
      {"-f", "Dockerfile.multistage", "-t", "test/ml-multi:v1"});
  // -f is relative to the context as docker takes it: give it absolute.
  args[3] = ctx() + "/Dockerfile.multistage";
  std::vector<std::string> root_args = args;
  root_args.insert(root_args.end(),
                   {"--output", "type=oci,dest=" + path("multi-oci") + "/"});
  MustBuild(root_args);
  LayoutImage img = ReadLayout(path("multi-oci"));
  EXPECT_EQ(img.config.config.user, "10001");

  std::string rootfs = Unpack(path("multi-oci"), "v1");
  CommandResult imported = InRootfs(
      rootfs,
      {"python3", "-c", "import benchapi, benchnum, mlsvc.main; print('ok')"},
      {"PYTHONPATH=/app/src"});
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_TRUE(fs::exists(rootfs + "/usr/local/bin/benchcorn"));
  EXPECT_FALSE(fs::exists(rootfs + "/install"));  // only in the builder
  struct stat st;
  ASSERT_EQ(::lstat((rootfs + "/app/src/mlsvc/main.py").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 10001u);
  EXPECT_EQ(st.st_gid, 10001u);
  CommandResult passwd = InRootfs(rootfs, {"getent", "passwd", "app"});
  EXPECT_EQ(passwd.out.rfind("app:x:10001:", 0), 0u) << passwd.out;
  EXPECT_NE(passwd.out.find(":/app:/usr/sbin/nologin\n"), std::string::npos)
      << passwd.out;

  args[3] = path("rootless/ctx/Dockerfile.multistage");
  CommandResult r = BuildRootless(args, path("rootless/multi-oci"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // pip's .pyc files hold install times, so compare names and owners.
  EXPECT_EQ(Owners(path("rootless/multi-oci")), Owners(path("multi-oci")));
}

// The ml-app Dockerfile exactly as written: its base comes from a
// registry on 127.0.0.1:5000 (filled with skopeo, as the bench kit's
// make-base-images.sh does), and the result is pushed there; the base's
// layer is mounted from its repository, not sent again.
TEST_F(WorkloadTest, MlServiceBuildsAndPushesAgainstARegistryOnPort5000) {
  RegistryServer::Options options;
  options.port = 5000;
  base::Result<std::unique_ptr<RegistryServer>> registry =
      RegistryServer::Start(options);
  ASSERT_TRUE(registry) << "port 5000 must be free: "
                        << registry.error().message();
  CommandResult seed = RunCommand(
      {"timeout", "120", "skopeo", "--insecure-policy", "copy",
       "--dest-tls-verify=false", "oci:" + base_layout_ + ":3.11-slim",
       std::string("docker://") + kBaseName});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  MakeMlContext();
  CommandResult r = MustBuild({"-t", "127.0.0.1:5000/mlapp:v1", "--push",
                               "--metadata-file", path("meta.json")});
  EXPECT_NE(r.err.find("mounted from python"), std::string::npos) << r.err;
  CommandResult inspect = RunCommand(
      {"timeout", "60", "skopeo", "inspect", "--raw", "--tls-verify=false",
       "docker://127.0.0.1:5000/mlapp:v1"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  std::string meta = *base::ReadFile(path("meta.json"));
  EXPECT_NE(meta.find(base::Digest::Of(inspect.out).ToString()),
            std::string::npos)
      << meta;
}

// apt-get against the Debian mirror the machine is configured with; the
// network is the host's (RUN --network=default), as apt needs.
TEST_F(WorkloadTest, AptGetInstallsAPackageWhenTheMirrorIsReachable) {
  Write("Dockerfile",
        "FROM debian\n"
        "RUN apt-get -o Acquire::Retries=0 -o Acquire::http::Timeout=20 "
        "update && apt-get install -y --no-install-recommends hello && "
        "hello\n");
  CommandResult r = Build(WithBase({"-t", "test/apt:v1", "--output",
                                    "type=oci,dest=" + path("apt-oci") + "/"},
                                   "debian"));
  if (r.exit_code != 0) {
    for (const char* offline :
         {"Temporary failure resolving", "Could not resolve",
          "Could not connect", "Failed to fetch", "Network is unreachable"}) {
      if (r.err.find(offline) != std::string::npos) {
        GTEST_SKIP() << "the Debian mirror is not reachable: " << offline;
      }
    }
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Hello, world!"), std::string::npos) << r.err;
  std::string rootfs = Unpack(path("apt-oci"), "v1");
  EXPECT_TRUE(fs::exists(rootfs + "/usr/bin/hello"));
}

}  // namespace
}  // namespace strata::testing
