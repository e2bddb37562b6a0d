#include "build/stat_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "base/file.h"
#include "build/copy.h"
#include "support/test_support.h"

namespace strata::build {
namespace {

using strata::testing::ScopedTempDir;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(StatCacheTest, RemembersByIdentityAndDistrustsRacyEntries) {
  ScopedTempDir tmp;
  std::string path = tmp.path() + "/cache";
  base::Digest a = base::Digest::Of("a");
  FileIdentity old_id{1, 100, NowNs() - 10'000'000'000, 7, 8};
  FileIdentity racy_id{1, 100, NowNs(), 9, 8};  // changed just now
  {
    StatCache cache(path);
    cache.Remember("/old", old_id, a);
    cache.Remember("/racy", racy_id, a);
    cache.Save();
  }
  StatCache cache(path);
  EXPECT_EQ(cache.Find("/old", old_id), a);
  EXPECT_EQ(cache.Find("/racy", racy_id), std::nullopt)
      << "changed within a second of the save: read again";
  FileIdentity touched = old_id;
  touched.ctime_ns += 1;  // any write moves ctime
  EXPECT_EQ(cache.Find("/old", touched), std::nullopt);
  EXPECT_EQ(cache.Find("/missing", old_id), std::nullopt);
}

TEST(StatCacheTest, OnlyWhatABuildUsedIsSavedAndDamageIsHarmless) {
  ScopedTempDir tmp;
  std::string path = tmp.path() + "/cache";
  FileIdentity id{1, 1, 1, 1, 1};
  {
    StatCache cache(path);
    cache.Remember("/gone", id, base::Digest::Of("x"));
    cache.Remember("/kept", id, base::Digest::Of("y"));
  }  // saved by the destructor
  {
    StatCache cache(path);
    EXPECT_TRUE(cache.Find("/kept", id).has_value());
  }
  StatCache cache(path);
  EXPECT_FALSE(cache.Find("/gone", id).has_value());
  EXPECT_TRUE(cache.Find("/kept", id).has_value());

  ASSERT_TRUE(base::WriteFileAtomic(path, "garbage\n\x01\x02"));
  StatCache damaged(path);
  EXPECT_FALSE(damaged.Find("/kept", id).has_value());
}

// Through the COPY engine: a second build of an unchanged context takes the
// digest from the cache without reading the file; a rewrite is read again.
TEST(StatCacheTest, UnchangedContextFilesAreNotReadAgain) {
  ScopedTempDir tmp;
  std::string ctx = tmp.path() + "/ctx";
  tmp.WriteFile("ctx/app.py", "print(1)\n");
  std::string cache_path = tmp.path() + "/statcache";
  // Older than the racy window when the cache is saved.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  layer::LayeredView empty(std::vector<std::string>{});
  dockerfile::SourcesAndDest sd;
  sd.source_paths = {"app.py"};
  sd.dest_path = "/app/";
  auto digest = [&]() {
    CopySource source = CopySource::Context(ctx, {}, cache_path);
    auto op = CopyOperation::Plan(source, sd, {}, empty);
    EXPECT_TRUE(op) << op.error().message();
    auto d = op->ContentDigest();
    EXPECT_TRUE(d) << d.error().message();
    return d ? d->ToString() : "";
  };
  std::string first = digest();  // reads the file, saves the cache
  std::string text = *base::ReadFile(cache_path);
  size_t at = text.find(" /app.py");
  ASSERT_NE(at, std::string::npos) << text;
  // Poison the remembered file digest: if the next build read the file it
  // would not see the poison.
  size_t line = text.rfind('\n', at) + 1;
  text.replace(line, 64, base::Digest::Of("poison").hex());
  ASSERT_TRUE(base::WriteFileAtomic(cache_path, text));
  EXPECT_NE(digest(), first) << "the remembered digest was used";

  // Rewritten (same size): ctime moves, so the file is read again.
  tmp.WriteFile("ctx/app.py", "print(1)\n");
  EXPECT_EQ(digest(), first);
}

}  // namespace
}  // namespace strata::build
