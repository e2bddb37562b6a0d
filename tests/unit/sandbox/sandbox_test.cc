// The sandbox run for real: a lower dir holding Debian's static busybox,
// commands run in it, and what they left in the upper dir and on the host.
#include "sandbox/sandbox.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "sandbox/rootfs.h"
#include "support/test_support.h"

namespace strata::sandbox {
namespace {

namespace fs = std::filesystem;
using strata::testing::ScopedTempDir;

constexpr const char* kApplets[] = {"sh",    "echo", "cat",  "id",
                                    "hostname", "mkdir", "rm", "ls",
                                    "sleep", "touch", "wc",  "tr"};

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists("/bin/busybox"))
        << "Debian's busybox-static is needed (scripts/install-deps.sh)";
    lower_ = tmp_.path() + "/lower";
    fs::create_directories(lower_ + "/bin");
    fs::copy_file("/bin/busybox", lower_ + "/bin/busybox");
    for (const char* applet : kApplets) {
      fs::create_symlink("busybox", lower_ + "/bin/" + applet);
    }
    tmp_.WriteFile("lower/etc/passwd",
                   "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
    tmp_.WriteFile("lower/etc/group", "root:x:0:\napp:x:1000:\nextra:x:10:app\n");
    tmp_.WriteFile("lower/gone.txt", "to be removed\n");
  }

  RunSpec Spec(std::vector<std::string> argv) {
    int n = runs_++;
    std::string base = tmp_.path() + "/run" + std::to_string(n);
    RunSpec spec;
    spec.lower_dirs = {lower_};
    spec.upper_dir = base + "/upper";
    spec.work_dir = base + "/work";
    spec.rootfs_dir = base + "/rootfs";
    spec.state_dir = base + "/state";
    for (const std::string& d : {spec.upper_dir, spec.work_dir,
                                 spec.rootfs_dir, spec.state_dir}) {
      fs::create_directories(d);
    }
    spec.argv = std::move(argv);
    spec.env = {"PATH=/bin"};
    spec.on_output = [this](std::string_view chunk) { output_.append(chunk); };
    return spec;
  }

  RunResult MustRun(const RunSpec& spec) {
    base::Result<RunResult> r = sandbox::Run(spec);
    EXPECT_TRUE(r) << r.error().message();
    if (r) return *r;
    RunResult failed;
    failed.exit_code = -1;
    return failed;
  }

  static std::vector<std::string> UpperNames(const std::string& upper) {
    std::vector<std::string> names;
    for (auto it = fs::recursive_directory_iterator(upper);
         it != fs::recursive_directory_iterator(); ++it) {
      names.push_back(it->path().lexically_relative(upper).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  ScopedTempDir tmp_;
  std::string lower_;
  std::string output_;
  int runs_ = 0;
};

TEST_F(SandboxTest, StreamsOutputAndReportsTheExitCode) {
  RunResult r = MustRun(
      Spec({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}));
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(output_, "out\nerr\n");
}

TEST_F(SandboxTest, IsPidOneWithItsOwnHostnameEnvAndWorkdir) {
  RunSpec spec = Spec({"sh", "-c", "echo $$ $(hostname) $(pwd) $FOO"});
  spec.env.push_back("FOO=bar");
  spec.cwd = "/work/dir";  // missing: created, as runc does
  EXPECT_EQ(MustRun(spec).exit_code, 0);
  EXPECT_EQ(output_, "1 buildkitsandbox /work/dir bar\n");
}

TEST_F(SandboxTest, ChangesLandInTheUpperDirAsOverlayDiff) {
  RunSpec spec = Spec({"sh", "-c",
                       "echo new > /new.txt && rm /gone.txt && mkdir -p /a/b"});
  EXPECT_EQ(MustRun(spec).exit_code, 0);
  EXPECT_EQ(*base::ReadFile(spec.upper_dir + "/new.txt"), "new\n");
  struct stat st {};
  ASSERT_EQ(::lstat((spec.upper_dir + "/gone.txt").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
      << "a removal is an overlay whiteout";
  EXPECT_TRUE(fs::is_directory(spec.upper_dir + "/a/b"));
  // The lower dir (an unpacked layer shared by every build) is untouched.
  EXPECT_TRUE(fs::exists(lower_ + "/gone.txt"));
  EXPECT_FALSE(fs::exists(lower_ + "/new.txt"));
}

TEST_F(SandboxTest, CopiedUpButUnchangedIsNotInTheDiff) {
  tmp_.WriteFile("lower/etc/app.conf", "a=1\n");
  tmp_.WriteFile("lower/etc/other.conf", "b=1\n");
  RunSpec spec = Spec({"sh", "-c",
                       // same mode, same bytes, and one real change
                       "chmod 644 /etc/app.conf && "
                       "cat /etc/app.conf > /tmp.x && cat /tmp.x > /etc/app.conf && "
                       "rm /tmp.x && echo b=2 > /etc/other.conf"});
  ::chmod((lower_ + "/etc/app.conf").c_str(), 0644);
  EXPECT_EQ(MustRun(spec).exit_code, 0) << output_;
  // app.conf was copied up and rewritten with the same bytes: gone.
  EXPECT_EQ(UpperNames(spec.upper_dir),
            (std::vector<std::string>{"etc", "etc/other.conf"}));
}

TEST_F(SandboxTest, CopyFallbackDiffsLikeOverlay) {
  RunSpec spec = Spec({"sh", "-c",
                       "echo new > /new.txt && rm /gone.txt && mkdir -p /a/b "
                       "&& cat /etc/hosts > /dev/null"});
  spec.force_copy = true;
  RunResult r = MustRun(spec);
  EXPECT_EQ(r.exit_code, 0) << output_;
  EXPECT_TRUE(r.oci_whiteouts);
  EXPECT_NE(r.notice, "");
  EXPECT_EQ(UpperNames(spec.upper_dir),
            (std::vector<std::string>{".wh.gone.txt", "a", "a/b", "new.txt"}));
  EXPECT_EQ(*base::ReadFile(spec.upper_dir + "/new.txt"), "new\n");
  EXPECT_TRUE(fs::exists(lower_ + "/gone.txt")) << "lower dirs untouched";
}

TEST_F(SandboxTest, MountPointsTheImageLacksNeverReachTheDiff) {
  // The image has /etc but none of /proc, /dev, /sys, resolv.conf, hosts.
  RunSpec spec = Spec({"sh", "-c",
                       "ls /proc/1 >/dev/null && cat /etc/hosts >/dev/null "
                       "&& echo x > /etc/resolv.conf"});
  EXPECT_EQ(MustRun(spec).exit_code, 0) << output_;
  EXPECT_EQ(UpperNames(spec.upper_dir), std::vector<std::string>{});
  // resolv.conf was a copy: the host's is untouched.
  EXPECT_NE(*base::ReadFile("/etc/resolv.conf"), "x\n");
}

TEST_F(SandboxTest, TheHostFileSystemIsOutOfReach) {
  std::string marker = "strata-sandbox-marker-" + std::to_string(::getpid());
  RunSpec spec = Spec(
      {"sh", "-c", "echo pwned > /../../" + marker + "; echo pwned > /" +
                       marker + "2; cat /proc/1/root/" + marker + " || true"});
  EXPECT_EQ(MustRun(spec).exit_code, 0);
  EXPECT_FALSE(fs::exists("/" + marker));
  EXPECT_FALSE(fs::exists("/" + marker + "2"));
  EXPECT_TRUE(fs::exists(spec.upper_dir + "/" + marker));
  EXPECT_TRUE(fs::exists(spec.upper_dir + "/" + marker + "2"));
}

TEST_F(SandboxTest, MountTargetsNeverFollowTheImagesLinksOut) {
  // A hostile image: /etc points at "/", /proc at a host path. Resolved
  // inside the root, the sandbox's mount points stay in the image.
  std::string host_dir = "/var/tmp/strata-sandbox-proc-" +
                         std::to_string(::getpid());
  fs::remove(lower_ + "/etc/passwd");
  fs::remove(lower_ + "/etc/group");
  fs::remove(lower_ + "/etc");
  fs::create_symlink("/", lower_ + "/etc");
  fs::create_symlink(host_dir, lower_ + "/proc");
  RunSpec spec = Spec({"sh", "-c", "cat /hosts >/dev/null && ls /proc/1 >/dev/null && echo ok"});
  EXPECT_EQ(MustRun(spec).exit_code, 0) << output_;
  EXPECT_EQ(output_, "ok\n");
  EXPECT_FALSE(fs::exists(host_dir));
  EXPECT_FALSE(fs::exists("/hosts"));
  // And nothing of it is left in the diff.
  EXPECT_EQ(UpperNames(spec.upper_dir), std::vector<std::string>{});
}

TEST_F(SandboxTest, RootInsideCannotMountOrOpenDevices) {
  RunSpec spec = Spec(
      {"sh", "-c",
       "mkdir /mnt; mount -t tmpfs none /mnt && echo mounted; "
       "mknod /disk b 7 0 && (cat /disk >/dev/null && echo opened-disk); "
       "mknod /dev/disk b 7 0 && (cat /dev/disk >/dev/null && echo opened-dev); "
       "echo ok > /dev/null && echo null-works; "
       "grep CapBnd /proc/self/status"});
  EXPECT_EQ(MustRun(spec).exit_code, 0) << output_;
  EXPECT_EQ(output_.find("mounted"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("opened"), std::string::npos) << output_;
  EXPECT_NE(output_.find("null-works"), std::string::npos) << output_;
  // Docker's default set: bit 21 (CAP_SYS_ADMIN) is not in it.
  size_t at = output_.find("CapBnd:");
  ASSERT_NE(at, std::string::npos) << output_;
  uint64_t bounding = std::stoull(output_.substr(at + 7), nullptr, 16);
  EXPECT_EQ(bounding & (uint64_t{1} << 21), 0u) << output_;
  EXPECT_EQ(bounding, 0xa80425fbu) << output_;  // docker's CapBnd
}

TEST_F(SandboxTest, NetworkNoneHasOnlyLoopback) {
  RunSpec spec = Spec({"sh", "-c", "cat /proc/net/dev"});
  spec.network = Network::kNone;
  EXPECT_EQ(MustRun(spec).exit_code, 0);
  EXPECT_NE(output_.find(" lo:"), std::string::npos) << output_;
  int interfaces = 0;  // one "name:" per interface; the headers have none
  for (char c : output_) interfaces += c == ':';
  EXPECT_EQ(interfaces, 1) << output_;
}

TEST_F(SandboxTest, RunsAsTheRequestedUserWithGroups) {
  if (!RunningAsRoot()) {
    GTEST_SKIP() << "other ids need subuid maps (not yet implemented) when "
                    "strata is not root";
  }
  RunSpec spec = Spec({"sh", "-c", "id -u; id -g; id -G; touch /home-file"});
  spec.uid = 1000;
  spec.gid = 1000;
  spec.groups = {10};
  spec.cwd = "/";
  EXPECT_EQ(MustRun(spec).exit_code, 1) << "/ is not writable by uid 1000";
  EXPECT_EQ(output_.substr(0, 18), "1000\n1000\n1000 10\n") << output_;
}

TEST_F(SandboxTest, MissingCommandExits127NamingIt) {
  RunResult r = MustRun(Spec({"no-such-tool", "arg"}));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(output_.find("no-such-tool"), std::string::npos) << output_;
}

TEST_F(SandboxTest, WhatTheCommandLeftRunningDiesWithIt) {
  // The background sleep holds the output pipe open; it must be killed
  // when PID 1 exits, or Run would wait for it.
  auto start = std::chrono::steady_clock::now();
  RunResult r = MustRun(Spec({"sh", "-c", "sleep 60 & echo started"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(output_, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(SandboxTest, BadSetupIsAnErrorNotAnExitCode) {
  RunSpec spec = Spec({"sh", "-c", "true"});
  spec.upper_dir = tmp_.path() + "/does/not/exist";
  base::Result<RunResult> r = sandbox::Run(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("overlay"), std::string::npos)
      << r.error().message();
}

TEST(CleanMountPointsTest, RemovesOnlyWhatTheRunCreatedForMounts) {
  ScopedTempDir tmp;
  std::string upper = tmp.path() + "/upper";
  std::string lower = tmp.path() + "/lower";
  fs::create_directories(upper + "/proc");
  fs::create_directories(upper + "/dev");
  fs::create_directories(upper + "/sys/kernel");  // the command wrote there
  fs::create_directories(upper + "/run/secrets");
  fs::create_directories(lower + "/etc");
  fs::create_directories(lower + "/dev");  // the image has /dev: a change
  tmp.WriteFile("upper/etc/hosts", "");
  tmp.WriteFile("upper/etc/resolv.conf", "nameserver 1.1.1.1\n");
  tmp.WriteFile("upper/run/secrets/token", "");
  tmp.WriteFile("upper/kept", "");  // not created for a mount
  std::vector<std::string> created = {"proc", "dev", "sys", "etc/hosts",
                                      "etc/resolv.conf", "run",
                                      "run/secrets", "run/secrets/token"};
  ASSERT_TRUE(CleanMountPoints(upper, {lower}, created));
  EXPECT_FALSE(fs::exists(upper + "/proc"));
  EXPECT_TRUE(fs::exists(upper + "/dev"));
  EXPECT_TRUE(fs::exists(upper + "/sys/kernel"));
  EXPECT_FALSE(fs::exists(upper + "/etc/hosts"));
  EXPECT_TRUE(fs::exists(upper + "/etc/resolv.conf"));
  EXPECT_FALSE(fs::exists(upper + "/run"));
  EXPECT_TRUE(fs::exists(upper + "/kept"));

  fs::remove(upper + "/etc/resolv.conf");
  tmp.WriteFile("upper/etc/resolv.conf", "");
  ASSERT_TRUE(CleanMountPoints(upper, {lower}, created));
  EXPECT_FALSE(fs::exists(upper + "/etc")) << "copied up only for mounts";
}

TEST(SecureJoinTest, LinksResolveInsideTheRoot) {
  ScopedTempDir tmp;
  std::string root = tmp.path() + "/root";
  fs::create_directories(root + "/real/etc");
  fs::create_symlink("/", root + "/up");
  fs::create_symlink("/real/etc", root + "/etc");
  fs::create_symlink("../../../../..", root + "/real/escape");
  fs::create_symlink("loop2", root + "/loop1");
  fs::create_symlink("loop1", root + "/loop2");
  auto join = [&](const std::string& p) {
    auto r = internal::SecureJoin(root, p);
    return r ? *r : "error: " + r.error().message();
  };
  EXPECT_EQ(join("/etc/hosts"), root + "/real/etc/hosts");
  EXPECT_EQ(join("up/etc/passwd"), root + "/real/etc/passwd");
  EXPECT_EQ(join("real/escape/tmp"), root + "/tmp");
  EXPECT_EQ(join("../../x"), root + "/x");
  EXPECT_EQ(join("missing/a/b"), root + "/missing/a/b");
  EXPECT_EQ(join("loop1/x").rfind("error: too many symlinks", 0), 0u);
}

}  // namespace
}  // namespace strata::sandbox
