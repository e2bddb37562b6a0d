// COPY engine tests (build/copy.h): what sources select — wildcards,
// missing and .dockerignore'd sources, --exclude and --parents. Layer lines
// are "name|type|mode|uid:gid|size|mtime|link|xattrs"; context files are
// newer than kEpoch, so their mtimes show as kEpoch.
#include <gtest/gtest.h>

#include "copy_test_util.h"

namespace strata::build {
namespace {

using Lines = std::vector<std::string>;
using testutil::CopyFixture;
using testutil::ErrorOf;

constexpr char kMultiError[] =
    "When using COPY with more than one source file, the destination must "
    "be a directory and end with a /";

// -------------------------------------------------------------- wildcards

class CopyGlobTest : public CopyFixture {
 protected:
  void SetUp() override {
    Ctx("a.txt", "a");
    Ctx("b.txt", "b");
    Ctx("ab.txt", "ab");
    Ctx("c.md", "c");
    Ctx("d.txt", "d");
    Ctx("dir1/x", "x");
    Ctx("dir2/y", "y");
    Ctx("other/z", "z");
  }
  // The names the layer holds below "out/" (the created dir itself left
  // out), in layer order.
  Lines Names(const std::vector<std::string>& sources) {
    auto r = Run(sources, "/out/");
    if (!r) {
      ADD_FAILURE() << ErrorOf(r);
      return {};
    }
    Lines names;
    for (const std::string& e : Entries(r->blob)) {
      std::string name = e.substr(0, e.find('|'));
      if (name != "out/") names.push_back(name);
    }
    return names;
  }
};

TEST_F(CopyGlobTest, Star) {
  EXPECT_EQ(Names({"*.txt"}),
            Lines({"out/a.txt", "out/ab.txt", "out/b.txt", "out/d.txt"}));
}

TEST_F(CopyGlobTest, QuestionMark) {
  EXPECT_EQ(Names({"?.txt"}), Lines({"out/a.txt", "out/b.txt", "out/d.txt"}));
}

TEST_F(CopyGlobTest, CharacterClass) {
  EXPECT_EQ(Names({"[a-c].*"}), Lines({"out/a.txt", "out/b.txt", "out/c.md"}));
}

TEST_F(CopyGlobTest, MatchedDirectoriesContributeTheirContents) {
  EXPECT_EQ(Names({"dir*"}), Lines({"out/x", "out/y"}));
}

TEST_F(CopyGlobTest, WildcardInNestedComponent) {
  EXPECT_EQ(Names({"*/y"}), Lines({"out/y"}));
}

TEST_F(CopyGlobTest, MatchingNothingCopiesNothing) {
  auto r = Run({"*.nothing"}, "/out/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines());
}

TEST_F(CopyGlobTest, DirectoryPartMustExist) {
  EXPECT_EQ(ErrorOf(Run({"nodir/*.txt"}, "/out/")),
            "\"/nodir\": not found in build context");
}

TEST_F(CopyGlobTest, SeveralFileMatchesNeedDirDest) {
  EXPECT_EQ(ErrorOf(Run({"?.txt"}, "/out")), kMultiError);
  // One match is one source.
  auto r = Run({"c.*"}, "/out");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"out|file|644|0:0|1|1000000||"}));
}

// ------------------------------------------------- missing and ignored

class CopyMissingTest : public CopyFixture {};

TEST_F(CopyMissingTest, MissingSourceIsAnErrorNamingIt) {
  Ctx("a", "A");
  auto r = Run({"a", "nope"}, "/out/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::Code::kNotFound);
  EXPECT_EQ(r.error().message(), "\"/nope\": not found in build context");
  EXPECT_EQ(ErrorOf(Run({"../x/../nope"}, "/out/")),
            "\"/nope\": not found in build context");
}

TEST_F(CopyMissingTest, DockerignoredFilesDoNotExist) {
  Ctx("keep.txt", "k");
  Ctx("secret.txt", "s");
  Ctx("logs/a.log", "l");
  SetIgnore({"secret.txt", "logs"});
  auto r = Run({"."}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/keep.txt|file|644|0:0|1|1000000||"}));
  EXPECT_EQ(ErrorOf(Run({"secret.txt"}, "/x")),
            "\"/secret.txt\": not found in build context (or excluded by "
            ".dockerignore)");
  EXPECT_EQ(ErrorOf(Run({"logs/a.log"}, "/x")),
            "\"/logs/a.log\": not found in build context (or excluded by "
            ".dockerignore)");
  // A wildcard just does not see them.
  r = Run({"*.txt"}, "/g/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"g/|dir|755|0:0|0|1000000||",
                                     "g/keep.txt|file|644|0:0|1|1000000||"}));
}

// ---------------------------------------------------------------- --exclude

class CopyExcludeTest : public CopyFixture {
 protected:
  void SetUp() override {
    Ctx("src/a.txt", "a");
    Ctx("src/a.log", "l");
    Ctx("src/keep.log", "k");
    Ctx("src/sub/b.log", "b");
    Ctx("src/sub/c.txt", "c");
    Ctx("src/tmp/x", "x");
  }
  Lines Names(const std::vector<std::string>& excludes,
              const std::string& source = "src") {
    CopyOptions options;
    options.excludes = excludes;
    auto r = Run({source}, "/out/", options);
    if (!r) {
      ADD_FAILURE() << ErrorOf(r);
      return {};
    }
    Lines names;
    for (const std::string& e : Entries(r->blob)) {
      names.push_back(e.substr(0, e.find('|')));
    }
    return names;
  }
};

TEST_F(CopyExcludeTest, PatternIsRelativeToTheMatch) {
  EXPECT_EQ(Names({"*.log"}),
            Lines({"out/", "out/a.txt", "out/sub/", "out/sub/b.log",
                   "out/sub/c.txt", "out/tmp/", "out/tmp/x"}));
}

TEST_F(CopyExcludeTest, DoubleStarAndDirectory) {
  EXPECT_EQ(Names({"**/*.log", "tmp"}),
            Lines({"out/", "out/a.txt", "out/sub/", "out/sub/c.txt"}));
}

TEST_F(CopyExcludeTest, NegatedPatternKeepsAFile) {
  EXPECT_EQ(Names({"*.log", "!keep.log"}),
            Lines({"out/", "out/a.txt", "out/keep.log", "out/sub/",
                   "out/sub/b.log", "out/sub/c.txt", "out/tmp/", "out/tmp/x"}));
}

TEST_F(CopyExcludeTest, AppliesPerWildcardMatch) {
  EXPECT_EQ(Names({"*.log"}, "src/s*"), Lines({"out/", "out/c.txt"}));
}

// ---------------------------------------------------------------- --parents

class CopyParentsTest : public CopyFixture {
 protected:
  void SetUp() override {
    Ctx("a/b/c.txt", "c");
    Ctx("a/b/d.txt", "d");
    Ctx("a/e.txt", "e");
    Ctx("x.txt", "x");
    CtxDir("a/b", 0750);
  }
};

TEST_F(CopyParentsTest, KeepsTheSourcePath) {
  CopyOptions options;
  options.parents = true;
  auto r = Run({"a/b/c.txt", "x.txt"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  // Parents below dest are copied with the context's metadata.
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/a/|dir|755|0:0|0|1000000||",
                                     "dst/a/b/|dir|750|0:0|0|1000000||",
                                     "dst/a/b/c.txt|file|644|0:0|1|1000000||",
                                     "dst/x.txt|file|644|0:0|1|1000000||"}));
}

TEST_F(CopyParentsTest, PivotDropsThePartBeforeIt) {
  CopyOptions options;
  options.parents = true;
  auto r = Run({"a/./b/c.txt"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/b/|dir|750|0:0|0|1000000||",
                                     "dst/b/c.txt|file|644|0:0|1|1000000||"}));
}

TEST_F(CopyParentsTest, WithWildcard) {
  CopyOptions options;
  options.parents = true;
  auto r = Run({"a/*/*.txt"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(
      Entries(r->blob),
      Lines({"dst/|dir|755|0:0|0|1000000||", "dst/a/|dir|755|0:0|0|1000000||",
             "dst/a/b/|dir|750|0:0|0|1000000||",
             "dst/a/b/c.txt|file|644|0:0|1|1000000||",
             "dst/a/b/d.txt|file|644|0:0|1|1000000||"}));
}

TEST_F(CopyParentsTest, EmptyPatternCopiesEverythingBelowThePivot) {
  CopyOptions options;
  options.parents = true;
  auto r = Run({"a/./"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/b/|dir|750|0:0|0|1000000||",
                                     "dst/b/c.txt|file|644|0:0|1|1000000||",
                                     "dst/b/d.txt|file|644|0:0|1|1000000||",
                                     "dst/e.txt|file|644|0:0|1|1000000||"}));
}

TEST_F(CopyParentsTest, MissingLiteralSourceIsAnError) {
  CopyOptions options;
  options.parents = true;
  EXPECT_EQ(ErrorOf(Run({"a/./nope.txt"}, "/dst/", options)),
            "\"/a/nope.txt\": not found in build context");
}

TEST_F(CopyParentsTest, WithoutParentsTheFileLandsInDest) {
  auto r = Run({"a/b/c.txt"}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/c.txt|file|644|0:0|1|1000000||"}));
}

}  // namespace
}  // namespace strata::build
