// A temp context and store root for end-to-end builds, with readers for
// what a build wrote (OCI layouts, local outputs).
#ifndef STRATA_TESTS_INTEGRATION_BUILD_FIXTURE_H_
#define STRATA_TESTS_INTEGRATION_BUILD_FIXTURE_H_

#include <gtest/gtest.h>

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

}  // namespace strata::testing

#endif  // STRATA_TESTS_INTEGRATION_BUILD_FIXTURE_H_
