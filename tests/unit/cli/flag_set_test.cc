#include "flag_set.h"

#include <gtest/gtest.h>

namespace strata::cli {
namespace {

struct Fixture {
  std::string file;
  std::vector<std::string> tags;
  bool quiet = false;
  bool no_cache = false;
  std::string progress;
  FlagSet flags;

  Fixture() {
    flags.String("file", 'f', &file, "FILE", "Dockerfile");
    flags.StringList("tag", 't', &tags, "NAME", "tags");
    flags.Bool("quiet", 'q', &quiet, "quiet");
    flags.Bool("no-cache", 0, &no_cache, "no cache");
    flags.String("progress", 0, &progress, "MODE", "progress",
                 [](const std::string& v) -> base::Status {
                   if (v == "plain" || v == "auto") return base::OkStatus();
                   return base::MakeError(base::Code::kInvalidArgument,
                                          "want plain or auto");
                 });
  }
};

TEST(FlagSetTest, LongShortAndPositional) {
  Fixture f;
  auto pos = f.flags.Parse({"-t", "a:1", "--tag=b:2", "ctx", "-tc:3",
                            "--file", "Df", "-q", "--no-cache=false"});
  ASSERT_TRUE(pos) << pos.error().ToString();
  EXPECT_EQ(*pos, std::vector<std::string>{"ctx"});
  EXPECT_EQ(f.tags, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_EQ(f.file, "Df");
  EXPECT_TRUE(f.quiet);
  EXPECT_FALSE(f.no_cache);
}

TEST(FlagSetTest, GroupedShortFlags) {
  Fixture f;
  auto pos = f.flags.Parse({"-qt", "app", "."});
  ASSERT_TRUE(pos);
  EXPECT_TRUE(f.quiet);
  EXPECT_EQ(f.tags, std::vector<std::string>{"app"});
  EXPECT_EQ(*pos, std::vector<std::string>{"."});
}

TEST(FlagSetTest, DoubleDashAndStdin) {
  Fixture f;
  auto pos = f.flags.Parse({"-", "--", "--quiet"});
  ASSERT_TRUE(pos);
  EXPECT_EQ(*pos, (std::vector<std::string>{"-", "--quiet"}));
  EXPECT_FALSE(f.quiet);
}

TEST(FlagSetTest, Errors) {
  Fixture f;
  auto unknown = f.flags.Parse({"--nope"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "unknown flag: --nope");
  auto unknown_eq = f.flags.Parse({"--nope=1"});
  EXPECT_EQ(unknown_eq.error().message(), "unknown flag: --nope");
  auto shorthand = f.flags.Parse({"-x"});
  EXPECT_EQ(shorthand.error().message(), "unknown shorthand flag: 'x' in -x");
  auto missing = f.flags.Parse({"--file"});
  EXPECT_EQ(missing.error().message(), "flag needs an argument: --file");
  auto bad_bool = f.flags.Parse({"--no-cache=maybe"});
  EXPECT_EQ(bad_bool.error().message(),
            "invalid argument \"maybe\" for \"--no-cache\" flag: expected true "
            "or false");
  auto bad_value = f.flags.Parse({"--progress", "fancy"});
  EXPECT_EQ(bad_value.error().message(),
            "invalid argument \"fancy\" for \"--progress\" flag: want plain or "
            "auto");
}

TEST(FlagSetTest, HelpListsEveryFlag) {
  Fixture f;
  std::string help = f.flags.Help();
  EXPECT_NE(help.find("  -f, --file FILE"), std::string::npos) << help;
  EXPECT_NE(help.find("      --no-cache"), std::string::npos) << help;
  EXPECT_NE(help.find("  -q, --quiet"), std::string::npos) << help;
}

}  // namespace
}  // namespace strata::cli
