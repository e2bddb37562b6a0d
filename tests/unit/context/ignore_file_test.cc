#include "context/ignore_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tsv.h"

namespace strata::context {
namespace {

using testing::Describe;
using testing::ReadTsv;
using testing::RowName;
using testing::TsvRow;

class ReadfileTsvTest : public ::testing::TestWithParam<TsvRow> {};

TEST_P(ReadfileTsvTest, ReadAll) {
  const TsvRow& row = GetParam();
  SCOPED_TRACE(Describe(row));
  nlohmann::json input = nlohmann::json::parse(row["input_json"], nullptr,
                                               /*allow_exceptions=*/false);
  nlohmann::json expected = nlohmann::json::parse(row["expected_json"], nullptr,
                                                  /*allow_exceptions=*/false);
  ASSERT_TRUE(input.is_string());
  ASSERT_TRUE(expected.is_array());
  base::Result<std::vector<std::string>> got =
      ReadIgnoreFile(input.get<std::string>());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, expected.get<std::vector<std::string>>());
}

INSTANTIATE_TEST_SUITE_P(Conformance, ReadfileTsvTest,
                         ::testing::ValuesIn(ReadTsv("readfile.tsv")), RowName);

TEST(ReadIgnoreFileTest, LineLengthLimitLikeBufioScanner) {
  std::string ok(65535, 'a');
  base::Result<std::vector<std::string>> r = ReadIgnoreFile(ok + "\nb");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
  EXPECT_TRUE(ReadIgnoreFile(ok));
  std::string too_long(65536, 'a');
  for (const std::string& text :
       {too_long, too_long + "\n", "x\n" + too_long + "\ny"}) {
    base::Result<std::vector<std::string>> bad = ReadIgnoreFile(text);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "bufio.Scanner: token too long");
  }
}

TEST(ReadIgnoreFileTest, Quirks) {
  // Only one leading '/' goes, after cleaning; a lone '!' stays.
  EXPECT_EQ(*ReadIgnoreFile("!/\n!\n/a/../../b\n \xC2\xA0x\xC2\xA0\n"),
            (std::vector<std::string>{"!/", "!", "b", "x"}));
  // "\r" alone on a line is a blank line; a '#' after a BOM is a comment.
  EXPECT_EQ(*ReadIgnoreFile("\xEF\xBB\xBF#c\r\n\r\na"),
            (std::vector<std::string>{"a"}));
}

class LoadBuildIgnoreTest : public ::testing::Test {
 protected:
  std::string Ctx() const { return dir_.path() + "/ctx"; }
  void Write(const std::string& rel, const std::string& content) {
    dir_.WriteFile(rel, content);
  }
  strata::testing::ScopedTempDir dir_;
};

TEST_F(LoadBuildIgnoreTest, NoFileMeansNoPatterns) {
  std::filesystem::create_directories(Ctx());
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), Ctx() + "/Dockerfile");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
  EXPECT_TRUE(r->patterns.empty());
}

TEST_F(LoadBuildIgnoreTest, ContextDockerignore) {
  Write("ctx/.dockerignore", "a\n!b\n");
  Write("ctx/Dockerfile", "FROM scratch\n");
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), Ctx() + "/Dockerfile");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, ".dockerignore");
  EXPECT_EQ(r->path, Ctx() + "/.dockerignore");
  EXPECT_EQ(r->patterns, (std::vector<std::string>{"a", "!b"}));
  // Without a Dockerfile path only the context's file is looked at.
  base::Result<BuildIgnore> no_df = LoadBuildIgnore(Ctx(), "");
  ASSERT_TRUE(no_df);
  EXPECT_EQ(no_df->patterns, (std::vector<std::string>{"a", "!b"}));
}

TEST_F(LoadBuildIgnoreTest, DockerfileSpecificFileWins) {
  Write("ctx/.dockerignore", "from-context\n");
  Write("df/app.Dockerfile", "FROM scratch\n");
  Write("df/app.Dockerfile.dockerignore", "from-dockerfile\n");
  base::Result<BuildIgnore> r =
      LoadBuildIgnore(Ctx(), dir_.path() + "/df/app.Dockerfile");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "app.Dockerfile.dockerignore");
  EXPECT_EQ(r->patterns, (std::vector<std::string>{"from-dockerfile"}));
}

TEST_F(LoadBuildIgnoreTest, EmptyDockerfileSpecificFileStillWins) {
  Write("ctx/.dockerignore", "from-context\n");
  Write("ctx/Dockerfile.dockerignore", "");
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), Ctx() + "/Dockerfile");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "Dockerfile.dockerignore");
  EXPECT_TRUE(r->patterns.empty());
}

TEST_F(LoadBuildIgnoreTest, DirectoriesCountAsAbsent) {
  Write("ctx/.dockerignore", "from-context\n");
  std::filesystem::create_directories(Ctx() + "/Dockerfile.dockerignore");
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), Ctx() + "/Dockerfile");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, ".dockerignore");
  std::filesystem::remove(Ctx() + "/.dockerignore");
  std::filesystem::create_directories(Ctx() + "/.dockerignore");
  r = LoadBuildIgnore(Ctx(), Ctx() + "/Dockerfile");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
}

TEST_F(LoadBuildIgnoreTest, SymlinksResolveInsideTheContext) {
  Write("ctx/real/ignore", "via-link\n");
  Write("outside-ignore", "outside\n");
  ASSERT_EQ(::symlink("/real/ignore", (Ctx() + "/.dockerignore").c_str()), 0);
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->patterns, (std::vector<std::string>{"via-link"}));
  // A link out of the context is read inside it: here it names nothing.
  std::filesystem::remove(Ctx() + "/.dockerignore");
  ASSERT_EQ(::symlink("../outside-ignore", (Ctx() + "/.dockerignore").c_str()),
            0);
  r = LoadBuildIgnore(Ctx(), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
}

TEST_F(LoadBuildIgnoreTest, ParseErrorNamesTheFile) {
  Write("ctx/Dockerfile.dockerignore", std::string(70000, 'x'));
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), Ctx() + "/Dockerfile");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "failed parsing Dockerfile.dockerignore: bufio.Scanner: token too "
            "long");
}

TEST_F(LoadBuildIgnoreTest, FifoDoesNotHang) {
  std::filesystem::create_directories(Ctx());
  ASSERT_EQ(::mkfifo((Ctx() + "/.dockerignore").c_str(), 0644), 0);
  base::Result<BuildIgnore> r = LoadBuildIgnore(Ctx(), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
}

}  // namespace
}  // namespace strata::context
