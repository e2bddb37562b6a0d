#include "context/walker.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "context/ignore_file.h"
#include "tsv.h"

namespace strata::context {
namespace {

namespace fs = std::filesystem;

using testing::Describe;
using testing::ReadTsv;
using testing::RowName;
using testing::TsvRow;

// The walk as a list of paths, or "error: ..." as the last element.
std::vector<std::string> WalkPaths(const std::string& dir,
                                   const std::vector<std::string>& patterns) {
  std::vector<std::string> out;
  base::Status st =
      WalkContext(dir, {.exclude_patterns = patterns}, [&](const WalkEntry& e) {
        out.push_back(e.path);
        return base::OkStatus();
      });
  if (!st) out.push_back("error: " + st.error().message());
  return out;
}

class WalkerTest : public ::testing::Test {
 protected:
  const std::string& Root() const { return dir_.path(); }
  void File(const std::string& rel, const std::string& content = "x") {
    dir_.WriteFile(rel, content);
  }
  void Dir(const std::string& rel) {
    fs::create_directories(Root() + "/" + rel);
  }
  void Symlink(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), (Root() + "/" + rel).c_str()), 0);
  }
  strata::testing::ScopedTempDir dir_;
};

TEST_F(WalkerTest, DepthFirstInByteOrder) {
  for (const char* f :
       {"b", "a.txt", "a-b", "B", "_", "\xC3\xA9", "a/x", "a/y/z"}) {
    File(f);
  }
  // Names are sorted per directory (Go's WalkDir), so "a/x" comes before
  // "a-b" even though '-' < '/'.
  EXPECT_EQ(WalkPaths(Root(), {}),
            (std::vector<std::string>{"B", "_", "a", "a/x", "a/y", "a/y/z",
                                      "a-b", "a.txt", "b", "\xC3\xA9"}));
}

TEST_F(WalkerTest, ReportsTypesAndStat) {
  File("dir/file", "hello");
  Symlink("dir/file", "link");
  ASSERT_EQ(::mkfifo((Root() + "/fifo").c_str(), 0600), 0);
  struct timespec times[2] = {{1000, 5}, {2000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (Root() + "/dir/file").c_str(), times,
                        AT_SYMLINK_NOFOLLOW),
            0);
  ASSERT_EQ(::chmod((Root() + "/dir/file").c_str(), 0640), 0);
  std::vector<WalkEntry> entries;
  ASSERT_TRUE(WalkContext(Root(), {}, [&](const WalkEntry& e) {
    entries.push_back(e);
    return base::OkStatus();
  }));
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].path, "dir");
  EXPECT_EQ(entries[0].type, FileType::kDir);
  EXPECT_TRUE(S_ISDIR(entries[0].stat.mode));
  EXPECT_EQ(entries[1].path, "dir/file");
  EXPECT_EQ(entries[1].type, FileType::kFile);
  EXPECT_EQ(entries[1].stat.mode, S_IFREG | 0640u);
  EXPECT_EQ(entries[1].stat.size, 5);
  EXPECT_EQ(entries[1].stat.mtime_ns, int64_t{2000} * 1000000000 + 123456789);
  EXPECT_EQ(entries[1].stat.nlink, 1u);
  EXPECT_EQ(entries[1].stat.uid, ::geteuid());
  EXPECT_GT(entries[1].stat.ctime_ns, 0);
  struct stat st;
  ASSERT_EQ(::lstat((Root() + "/dir/file").c_str(), &st), 0);
  EXPECT_EQ(entries[1].stat.inode, st.st_ino);
  EXPECT_EQ(entries[1].stat.device, st.st_dev);
  EXPECT_EQ(entries[2].path, "fifo");
  EXPECT_EQ(entries[2].type, FileType::kOther);
  EXPECT_EQ(entries[3].path, "link");
  EXPECT_EQ(entries[3].type, FileType::kSymlink);
  EXPECT_EQ(entries[3].link_target, "dir/file");
  EXPECT_TRUE(entries[1].link_target.empty());
}

TEST_F(WalkerTest, SymlinksAreNotFollowed) {
  File("sub/inner");
  Symlink("sub", "dirlink");
  Symlink("/etc", "outside");
  Symlink("../../..", "up");
  Symlink("loop", "loop");
  Symlink("self", "self");
  std::vector<WalkEntry> entries;
  ASSERT_TRUE(WalkContext(Root(), {}, [&](const WalkEntry& e) {
    entries.push_back(e);
    return base::OkStatus();
  }));
  std::vector<std::string> paths;
  for (const WalkEntry& e : entries) {
    paths.push_back(e.path);
    if (e.path != "sub" && e.path != "sub/inner") {
      EXPECT_EQ(e.type, FileType::kSymlink) << e.path;
    }
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"dirlink", "loop", "outside", "self",
                                      "sub", "sub/inner", "up"}));
  EXPECT_EQ(entries[2].link_target, "/etc");
  EXPECT_EQ(entries[6].link_target, "../../..");
}

TEST_F(WalkerTest, ContextDirThroughSymlinkIsResolved) {
  File("real/f");
  Symlink("real", "alias");
  EXPECT_EQ(WalkPaths(Root() + "/alias", {}), (std::vector<std::string>{"f"}));
  std::vector<std::string> not_dir = WalkPaths(Root() + "/real/f", {});
  ASSERT_EQ(not_dir.size(), 1u);
  EXPECT_NE(not_dir[0].find("error: open " + Root() + "/real/f"),
            std::string::npos)
      << not_dir[0];
  std::vector<std::string> missing = WalkPaths(Root() + "/nope", {});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].substr(0, 15), "error: resolve ");
}

TEST_F(WalkerTest, ExcludedFilesAndDirs) {
  for (const char* f :
       {"keep", "drop.log", "logs/a", "logs/b", "src/x.log", "src/main.c"}) {
    File(f);
  }
  EXPECT_EQ(
      WalkPaths(Root(), {"*.log", "logs"}),
      (std::vector<std::string>{"keep", "src", "src/main.c", "src/x.log"}));
  EXPECT_EQ(WalkPaths(Root(), {"**/*.log", "logs"}),
            (std::vector<std::string>{"keep", "src", "src/main.c"}));
}

TEST_F(WalkerTest, ExcludedParentWithReincludedChild) {
  for (const char* f : {"a/b/c", "a/b/d", "a/e", "f"}) File(f);
  // "a" is excluded but entered because "!a/b/c" points below it; it and
  // "a/b" are reported just before the first entry that is kept.
  EXPECT_EQ(WalkPaths(Root(), {"a", "!a/b/c"}),
            (std::vector<std::string>{"a", "a/b", "a/b/c", "f"}));
  // Re-including a directory keeps everything under it.
  EXPECT_EQ(WalkPaths(Root(), {"*", "!a/b"}),
            (std::vector<std::string>{"a", "a/b", "a/b/c", "a/b/d"}));
  // An excluded directory with nothing re-included is left out whole.
  EXPECT_EQ(WalkPaths(Root(), {"a", "!f"}), (std::vector<std::string>{"f"}));
  // A later pattern can exclude the re-included child again.
  EXPECT_EQ(WalkPaths(Root(), {"a", "!a/b/c", "a/b/c"}),
            (std::vector<std::string>{"f"}));
}

TEST_F(WalkerTest, WildcardReincludeEntersEveryExcludedDir) {
  for (const char* f : {"x/keep/1", "x/other", "y/keep/2", "y/z/keep/3"}) {
    File(f);
  }
  // A wildcard in a '!' pattern turns off the prefix shortcut.
  EXPECT_EQ(WalkPaths(Root(), {"*", "!*/keep"}),
            (std::vector<std::string>{"x", "x/keep", "x/keep/1", "y", "y/keep",
                                      "y/keep/2"}));
  EXPECT_EQ(
      WalkPaths(Root(), {"*", "!**/keep"}),
      (std::vector<std::string>{"x", "x/keep", "x/keep/1", "y", "y/keep",
                                "y/keep/2", "y/z", "y/z/keep", "y/z/keep/3"}));
}

TEST_F(WalkerTest, LoneExclamationIsAnError) {
  File("a");
  base::Result<std::vector<std::string>> patterns = ReadIgnoreFile("a\n!\n");
  ASSERT_TRUE(patterns);
  EXPECT_EQ(WalkPaths(Root(), *patterns),
            (std::vector<std::string>{
                "error: invalid excludepatterns: [a !]: illegal exclusion "
                "pattern: \"!\""}));
}

TEST_F(WalkerTest, BadRegexpFailsWhenUsed) {
  File("x");
  EXPECT_EQ(WalkPaths(Root(), {"[Local-Only]/"}),
            (std::vector<std::string>{
                "error: failed to match excludepatterns: syntax error in "
                "pattern"}));
}

TEST_F(WalkerTest, HardLinksPointToTheFirstPath) {
  File("a");
  File("b");
  ASSERT_EQ(::link((Root() + "/a").c_str(), (Root() + "/c").c_str()), 0);
  std::vector<WalkEntry> entries;
  ASSERT_TRUE(WalkContext(Root(), {}, [&](const WalkEntry& e) {
    entries.push_back(e);
    return base::OkStatus();
  }));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].hardlink_to, "");
  EXPECT_EQ(entries[0].stat.nlink, 2u);
  EXPECT_EQ(entries[1].hardlink_to, "");
  EXPECT_EQ(entries[2].path, "c");
  EXPECT_EQ(entries[2].hardlink_to, "a");
}

TEST_F(WalkerTest, CallbackErrorStopsTheWalk) {
  File("a");
  File("b");
  int calls = 0;
  base::Status st = WalkContext(Root(), {}, [&](const WalkEntry&) {
    ++calls;
    return base::Status(base::MakeError(base::Code::kCancelled, "stop"));
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "stop");
  EXPECT_EQ(calls, 1);
}

// Runs the walk in a child process without root's permission override (we
// may be root), and returns its output lines.
std::vector<std::string> WalkAsUnprivileged(
    const std::string& dir, const std::vector<std::string>& patterns) {
  if (::geteuid() != 0) return WalkPaths(dir, patterns);
  int fds[2];
  if (::pipe(fds) != 0) return {"pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    std::string text;
    for (const std::string& line : WalkPaths(dir, patterns)) {
      text += line + "\n";
    }
    ssize_t n = ::write(fds[1], text.data(), text.size());
    ::_exit(n == static_cast<ssize_t>(text.size()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) text.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {"child failed"};
  std::vector<std::string> lines = base::Split(text, '\n');
  lines.pop_back();
  return lines;
}

TEST_F(WalkerTest, UnreadableDirectory) {
  File("locked/secret");
  File("open/file");
  ASSERT_EQ(::chmod(Root().c_str(), 0755), 0);
  ASSERT_EQ(::chmod((Root() + "/open").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((Root() + "/open/file").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((Root() + "/locked").c_str(), 0), 0);
  std::vector<std::string> got = WalkAsUnprivileged(Root(), {});
  // The directory itself is reported, then reading it fails.
  ASSERT_EQ(got.size(), 2u) << ::testing::PrintToString(got);
  EXPECT_EQ(got[0], "locked");
  EXPECT_EQ(got[1],
            "error: open " + Root() + "/locked: " + base::ErrnoText(EACCES));
  // Excluded, even when entered for a re-include, it is skipped quietly.
  EXPECT_EQ(WalkAsUnprivileged(Root(), {"locked", "!locked/secret"}),
            (std::vector<std::string>{"open", "open/file"}));
  ASSERT_EQ(::chmod((Root() + "/locked").c_str(), 0755), 0);
}

// The api=context rows of match_multi.tsv: BuildKit's `COPY . .` with the
// row's .dockerignore. Build a context holding the row's path and walk it.
class ContextRowTest : public ::testing::TestWithParam<TsvRow> {};

TEST_P(ContextRowTest, WalkLeavesOutExcluded) {
  const TsvRow& row = GetParam();
  SCOPED_TRACE(Describe(row));
  nlohmann::json j = nlohmann::json::parse(row["patterns_json"], nullptr,
                                           /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_array());
  strata::testing::ScopedTempDir dir;
  dir.WriteFile(row["path"], "data");
  std::vector<std::string> walked =
      WalkPaths(dir.path(), j.get<std::vector<std::string>>());
  bool present =
      std::find(walked.begin(), walked.end(), row["path"]) != walked.end();
  EXPECT_EQ(present ? "false" : "true", row["expected_match"])
      << ::testing::PrintToString(walked);
}

std::vector<TsvRow> ContextRows() {
  std::vector<TsvRow> out;
  for (TsvRow& row : ReadTsv("match_multi.tsv")) {
    if (row["api"] == "context") out.push_back(row);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Conformance, ContextRowTest,
                         ::testing::ValuesIn(ContextRows()), RowName);

}  // namespace
}  // namespace strata::context
