// A temp context and store root for end-to-end builds, with readers for
// what a build wrote (OCI layouts, local outputs).
#ifndef STRATA_TESTS_INTEGRATION_BUILD_FIXTURE_H_
#define STRATA_TESTS_INTEGRATION_BUILD_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/file.h"
#include "image/oci.h"
#include "support/run_command.h"
#include "support/test_support.h"

namespace strata::testing {

class BuildTest : public ::testing::Test {
 protected:
  std::string ctx() const { return dir_.path() + "/ctx"; }
  std::string root() const { return dir_.path() + "/root"; }
  std::string path(const std::string& rel) const {
    return dir_.path() + "/" + rel;
  }
  void Write(const std::string& rel, const std::string& content) {
    dir_.WriteFile("ctx/" + rel, content);
  }

  /// `strata build --root ROOT --progress=plain ARGS... ctx`.
  CommandResult Build(std::vector<std::string> args,
                      const std::string& root_dir = "") {
    std::vector<std::string> full = {"build", "--root",
                                     root_dir.empty() ? root() : root_dir,
                                     "--progress=plain"};
    full.insert(full.end(), args.begin(), args.end());
    full.push_back(ctx());
    return RunStrata(full, "", dir_.path(), env_);
  }

  /// Builds and fails the test if the build fails.
  CommandResult MustBuild(std::vector<std::string> args,
                          const std::string& root_dir = "") {
    CommandResult r = Build(std::move(args), root_dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  /// The single image of an OCI layout dir: manifest and config.
  struct LayoutImage {
    std::string manifest_digest;
    image::Manifest manifest;
    image::ImageConfig config;
  };
  LayoutImage ReadLayout(const std::string& dir) {
    LayoutImage out;
    auto index = image::ParseIndex(*base::ReadFile(dir + "/index.json"));
    EXPECT_TRUE(index);
    EXPECT_EQ(index->manifests.size(), 1u);
    const image::Descriptor& d = index->manifests.at(0);
    out.manifest_digest = d.digest.ToString();
    out.manifest = *image::ParseManifest(
        *base::ReadFile(dir + "/blobs/sha256/" + d.digest.hex()));
    out.config = *image::ParseImageConfig(*base::ReadFile(
        dir + "/blobs/sha256/" + out.manifest.config.digest.hex()));
    return out;
  }

  ScopedTempDir dir_;
  std::vector<std::string> env_;  // added to strata's environment ("K=V")
};

/// Counts occurrences of `needle` in `hay`.
inline int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos;
       p = hay.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

/// The unprivileged user rootless tests build as, created on first use.
/// Debian's useradd gives it ranges in /etc/subuid and /etc/subgid; they
/// are added when missing. Returns "" or why it could not be made.
inline std::string EnsureRootlessUser(const std::string& user) {
  if (RunCommand({"id", user}).exit_code != 0) {
    CommandResult add = RunCommand({"useradd", "--create-home", user});
    if (add.exit_code != 0) return "useradd: " + add.err;
  }
  for (const char* file : {"/etc/subuid", "/etc/subgid"}) {
    CommandResult has = RunCommand({"grep", "-q", "^" + user + ":", file});
    if (has.exit_code == 0) continue;
    CommandResult mod = RunCommand(
        {"usermod", std::string(file) == "/etc/subuid" ? "--add-subuids"
                                                       : "--add-subgids",
         "300000-365535", user});
    if (mod.exit_code != 0) return "usermod: " + mod.err;
  }
  return "";
}

/// Runs a copy of strata as `user` with HOME=work (`work` and all in it
/// are given to the user, and the dirs above it opened for them): the
/// checkout may not be readable by other users.
inline CommandResult RunStrataAs(const std::string& user,
                                 const std::string& work,
                                 std::vector<std::string> args,
                                 std::vector<std::string> env = {}) {
  namespace fs = std::filesystem;
  fs::copy_file(STRATA_BINARY, work + "/strata",
                fs::copy_options::overwrite_existing);
  RunCommand({"chown", "-R", user + ":", work});
  for (fs::path p = fs::path(work).parent_path(); p != p.root_path();
       p = p.parent_path()) {
    fs::permissions(p, fs::perms::others_exec, fs::perm_options::add);
  }
  std::vector<std::string> argv = {"setpriv", "--reuid=" + user,
                                   "--regid=" + user, "--init-groups", "env",
                                   "HOME=" + work};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(work + "/strata");
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

}  // namespace strata::testing

#endif  // STRATA_TESTS_INTEGRATION_BUILD_FIXTURE_H_
