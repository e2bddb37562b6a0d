// Image outputs read back by the real tools where Debian has them.
#include <nlohmann/json.hpp>

#include "build_fixture.h"

namespace strata::testing {
namespace {

TEST_F(BuildTest, DockerArchiveLoadsAsALayoutAndListsRepoTags) {
  Write("Dockerfile", "FROM scratch\nCOPY a /a\n");
  Write("a", "a");
  MustBuild({"-t", "example/app:v3", "--output",
             "type=docker,dest=" + path("img.tar")});
  CommandResult ls = RunCommand({"tar", "-xf", path("img.tar"), "-C",
                                 dir_.path()});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  auto manifest = nlohmann::json::parse(*base::ReadFile(path("manifest.json")));
  EXPECT_EQ(manifest[0]["RepoTags"][0], "example/app:v3");
  EXPECT_EQ(manifest[0]["Layers"].size(), 1u);
}

TEST_F(BuildTest, SkopeoAndUmociReadTheLayout) {
  ASSERT_EQ(RunCommand({"sh", "-c", "command -v skopeo && command -v umoci"})
                .exit_code,
            0)
      << "skopeo and umoci are needed (scripts/install-deps.sh --test)";
  Write("Dockerfile",
        "FROM scratch\nCOPY etc/ /etc/\nWORKDIR /app\nCOPY app.sh /app/\n"
        "CMD [\"/app/app.sh\"]\n");
  Write("etc/hostname", "strata\n");
  Write("app.sh", "#!/bin/sh\necho hi\n");
  MustBuild({"-t", "example/tools:v1", "--output",
             "type=oci,dest=" + path("layout") + "/"});
  CommandResult inspect =
      RunCommand({"skopeo", "inspect", "oci:" + path("layout") + ":v1"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  auto j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j["Layers"].size(), 3u);
  CommandResult copy = RunCommand({"skopeo", "copy", "oci:" +
                                   path("layout") + ":v1",
                                   "oci:" + path("copied") + ":v1"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  CommandResult unpack = RunCommand({"umoci", "unpack", "--rootless",
                                     "--image", path("layout") + ":v1",
                                     path("bundle")});
  ASSERT_EQ(unpack.exit_code, 0) << unpack.err;
  EXPECT_EQ(*base::ReadFile(path("bundle/rootfs/etc/hostname")), "strata\n");
  EXPECT_EQ(*base::ReadFile(path("bundle/rootfs/app/app.sh")),
            "#!/bin/sh\necho hi\n");
}

}  // namespace
}  // namespace strata::testing
