#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/test_support.h"

namespace strata::base {
namespace {

TEST(FileTest, AtomicWriteThenRead) {
  testing::ScopedTempDir dir;
  std::string path = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "hello", 0600));
  Result<std::string> data = ReadFile(path);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "hello");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Overwrite replaces the content and leaves no temp file behind.
  ASSERT_TRUE(WriteFileAtomic(path, "bye"));
  EXPECT_EQ(*ReadFile(path), "bye");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FileTest, MissingFileIsNotFound) {
  Result<std::string> r = ReadFile("/nonexistent/strata/file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_FALSE(PathExists("/nonexistent/strata/file"));
}

TEST(FileTest, WriteIntoMissingDirFails) {
  EXPECT_FALSE(WriteFileAtomic("/nonexistent/strata/file", "x"));
}

}  // namespace
}  // namespace strata::base
