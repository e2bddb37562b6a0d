#include "build/options.h"

#include <gtest/gtest.h>

namespace strata::build {
namespace {

std::optional<std::string> FakeEnv(const std::string& key) {
  if (key == "HTTP_PROXY") return std::string("http://proxy:3128");
  return std::nullopt;
}

TEST(BuildArgTest, KeyValueAndEnvironment) {
  auto kv = ParseBuildArg("A=b=c", FakeEnv);
  ASSERT_TRUE(kv && *kv);
  EXPECT_EQ((*kv)->first, "A");
  EXPECT_EQ((*kv)->second, "b=c");
  auto empty = ParseBuildArg("A=", FakeEnv);
  ASSERT_TRUE(empty && *empty);
  EXPECT_EQ((*empty)->second, "");
  auto from_env = ParseBuildArg("HTTP_PROXY", FakeEnv);
  ASSERT_TRUE(from_env && *from_env);
  EXPECT_EQ((*from_env)->second, "http://proxy:3128");
  auto unset = ParseBuildArg("UNSET_VAR", FakeEnv);
  ASSERT_TRUE(unset);
  EXPECT_FALSE(unset->has_value());
  EXPECT_FALSE(ParseBuildArg("=x", FakeEnv));
  EXPECT_FALSE(ParseBuildArg("A B=x", FakeEnv));
}

TEST(LabelTest, Parses) {
  using Label = std::pair<std::string, std::string>;
  EXPECT_EQ(*ParseLabel("a=b"), Label("a", "b"));
  EXPECT_EQ(*ParseLabel("a"), Label("a", ""));
  EXPECT_FALSE(ParseLabel("=b"));
}

TEST(OutputSpecTest, Forms) {
  auto oci = ParseOutputSpec("type=oci,dest=out.tar,name=app:v1");
  ASSERT_TRUE(oci);
  EXPECT_EQ(oci->type, "oci");
  EXPECT_EQ(oci->attrs.at("dest"), "out.tar");
  EXPECT_EQ(oci->attrs.at("name"), "app:v1");
  auto dir = ParseOutputSpec("./out");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->type, "local");
  EXPECT_EQ(dir->attrs.at("dest"), "./out");
  auto stdout_tar = ParseOutputSpec("-");
  ASSERT_TRUE(stdout_tar);
  EXPECT_EQ(stdout_tar->type, "tar");
  auto quoted = ParseOutputSpec("type=local,\"dest=a,b\"");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->attrs.at("dest"), "a,b");
  EXPECT_FALSE(ParseOutputSpec("type=floppy"));
  EXPECT_FALSE(ParseOutputSpec("dest=x"));
  EXPECT_FALSE(ParseOutputSpec("type=local"));
  EXPECT_FALSE(ParseOutputSpec("type=oci,broken"));
  EXPECT_FALSE(ParseOutputSpec("type=oci,\"dest=x"));
  EXPECT_FALSE(ParseOutputSpec(""));
}

TEST(SecretSpecTest, Forms) {
  auto file = ParseSecretSpec("id=npm,src=/run/npmrc");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->id, "npm");
  EXPECT_EQ(file->file, "/run/npmrc");
  EXPECT_EQ(file->env, "");
  auto env = ParseSecretSpec("id=tok,env=GITHUB_TOKEN");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->env, "GITHUB_TOKEN");
  auto typed = ParseSecretSpec("type=env,id=tok,src=TOKEN");
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->env, "TOKEN");
  EXPECT_EQ(typed->file, "");
  auto bare = ParseSecretSpec("id=aws");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->file, "");
  EXPECT_EQ(bare->env, "");
  auto bad_key = ParseSecretSpec("id=a,color=red");
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().message(),
            "unexpected key 'color' in 'color=red'");
  EXPECT_FALSE(ParseSecretSpec("src=/x"));
  EXPECT_FALSE(ParseSecretSpec("id=a,type=ssh"));
  EXPECT_FALSE(ParseSecretSpec("id"));
}

TEST(EnumsTest, ProgressAndNetwork) {
  EXPECT_EQ(*ParseProgress("plain"), Progress::kPlain);
  EXPECT_EQ(*ParseProgress("quiet"), Progress::kQuiet);
  EXPECT_FALSE(ParseProgress("fancy"));
  EXPECT_EQ(*ParseNetworkMode("none"), NetworkMode::kNone);
  EXPECT_EQ(*ParseNetworkMode("host"), NetworkMode::kHost);
  EXPECT_FALSE(ParseNetworkMode("bridge"));
}

}  // namespace
}  // namespace strata::build

namespace strata::build {
namespace {

TEST(ParseAnnotationTest, ManifestAnnotationsAndRefusals) {
  auto plain = ParseAnnotation("org.opencontainers.image.title=app");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->first, "org.opencontainers.image.title");
  EXPECT_EQ(plain->second, "app");
  auto typed = ParseAnnotation("manifest:k=a=b");
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->first, "k");
  EXPECT_EQ(typed->second, "a=b");
  EXPECT_FALSE(ParseAnnotation("novalue"));
  EXPECT_FALSE(ParseAnnotation("=v"));
  auto index = ParseAnnotation("index:k=v");
  ASSERT_FALSE(index);
  EXPECT_NE(index.error().message().find("\"index\""), std::string::npos);
}

}  // namespace
}  // namespace strata::build
