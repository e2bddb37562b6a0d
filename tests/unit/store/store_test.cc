#include "store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/test_support.h"

namespace strata::store {
namespace {

namespace fs = std::filesystem;
using base::Code;
using base::Digest;

size_t CountEntries(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(StoreTest, OpenCreatesVersionedLayout) {
  testing::ScopedTempDir dir;
  auto store = Store::Open(dir.path() + "/root");
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ(*base::ReadFile(dir.path() + "/root/store-version"), "1\n");
  EXPECT_TRUE(fs::is_directory(dir.path() + "/root/blobs/sha256"));
  // Reopening an existing store works.
  EXPECT_TRUE(Store::Open(dir.path() + "/root"));
}

TEST(StoreTest, RefusesOtherVersion) {
  testing::ScopedTempDir dir;
  dir.WriteFile("store-version", "99\n");
  auto store = Store::Open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Code::kUnsupported);
  EXPECT_NE(store.error().message().find("version 99"), std::string::npos);
}

TEST(StoreTest, StreamedBlobIsRenamedToItsDigest) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  auto w = *store->NewBlobWriter();
  ASSERT_TRUE(w->Write("hello "));
  ASSERT_TRUE(w->Write(std::string(3 << 20, 'x')));  // over the buffer size
  auto digest = w->Commit();
  ASSERT_TRUE(digest);
  std::string want = "hello " + std::string(3 << 20, 'x');
  EXPECT_EQ(*digest, Digest::Of(want));
  EXPECT_TRUE(store->HasBlob(*digest));
  EXPECT_EQ(*store->BlobSize(*digest), static_cast<int64_t>(want.size()));
  EXPECT_EQ(*store->ReadBlob(*digest), want);
  EXPECT_EQ(CountEntries(dir.path() + "/tmp"), 0u);
}

TEST(StoreTest, RunsOfZerosBecomeHoles) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  auto w = *store->NewBlobWriter();
  std::string want = "head" + std::string(8 << 20, '\0') + "middle" +
                     std::string(5 << 20, '\0');  // ends in a hole
  // In pieces of several sizes, through the buffer and around it.
  ASSERT_TRUE(w->Write(want.substr(0, 4)));
  ASSERT_TRUE(w->Write(want.substr(4, 100)));
  ASSERT_TRUE(w->Write(want.substr(104, (8 << 20) - 100)));
  ASSERT_TRUE(w->Write(want.substr((8 << 20) + 4)));
  auto digest = w->Commit();
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, Digest::Of(want));
  EXPECT_EQ(*store->BlobSize(*digest), static_cast<int64_t>(want.size()));
  EXPECT_EQ(*store->ReadBlob(*digest), want);
  struct stat st;
  ASSERT_EQ(::stat(store->BlobPath(*digest).c_str(), &st), 0);
  // 13 MiB long, well under 1 MiB on disk.
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << st.st_blocks;
}

TEST(StoreTest, AbandonedOrMismatchedWriteLeavesNothing) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  {
    auto w = *store->NewBlobWriter();
    ASSERT_TRUE(w->Write("partial"));
  }
  EXPECT_EQ(CountEntries(dir.path() + "/tmp"), 0u);
  {
    auto w = *store->NewBlobWriter();
    ASSERT_TRUE(w->Write("abc"));
    auto r = w->Commit(Digest::Of("abd"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kDigestMismatch);
  }
  EXPECT_EQ(CountEntries(dir.path() + "/tmp"), 0u);
  EXPECT_EQ(CountEntries(dir.path() + "/blobs/sha256"), 0u);
}

TEST(StoreTest, CorruptBlobIsDetectedOnRead) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  Digest d = *store->PutBlob("original content");
  {
    std::ofstream out(store->BlobPath(d), std::ios::trunc);
    out << "tampered content";
  }
  auto whole = store->ReadBlob(d);
  ASSERT_FALSE(whole);
  EXPECT_EQ(whole.error().code(), Code::kDigestMismatch);

  auto reader = *store->OpenBlob(d);
  base::StringSink sink;
  auto copied = base::CopyStream(*reader, sink);
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code(), Code::kDigestMismatch);
}

TEST(StoreTest, StreamingReadVerifies) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  Digest d = *store->PutBlob("streamed");
  auto reader = *store->OpenBlob(d);
  EXPECT_EQ(reader->size(), 8);
  base::StringSink sink;
  ASSERT_TRUE(base::CopyStream(*reader, sink));
  EXPECT_EQ(sink.str(), "streamed");
  auto missing = store->OpenBlob(Digest::Of("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST(StoreTest, ListAndDeleteBlobs) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  Digest a = *store->PutBlob("a");
  Digest b = *store->PutBlob("b");
  auto list = *store->ListBlobs();
  std::sort(list.begin(), list.end());
  std::vector<Digest> want = {a, b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(list, want);
  ASSERT_TRUE(store->DeleteBlob(a));
  ASSERT_TRUE(store->DeleteBlob(a));  // idempotent
  EXPECT_FALSE(store->HasBlob(a));
  EXPECT_TRUE(store->HasBlob(b));
}

TEST(StoreTest, Records) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  const std::string key = "docker.io/library/app:v1";
  EXPECT_FALSE(store->GetRecord("images", key)->has_value());
  ASSERT_TRUE(store->PutRecord("images", key, "one"));
  ASSERT_TRUE(store->PutRecord("images", key, "two"));
  ASSERT_TRUE(store->PutRecord("images", "..", "dots"));
  EXPECT_EQ(**store->GetRecord("images", key, /*touch=*/true), "two");
  auto list = *store->ListRecords("images");
  ASSERT_EQ(list.size(), 2u);
  std::vector<std::string> keys = {list[0].key, list[1].key};
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"..", key}));
  ASSERT_TRUE(store->DeleteRecord("images", key));
  EXPECT_FALSE(store->GetRecord("images", key)->has_value());
  EXPECT_TRUE(store->ListRecords("never-written")->empty());
}

TEST(StoreTest, KeyEncodingRoundTrips) {
  for (std::string key :
       std::vector<std::string>{"a", "docker.io/x:y", "..", "%41", "sp ace",
                                std::string("nul\0x", 5), "\xc3\xbc"}) {
    std::string enc = EncodeKey(key);
    EXPECT_EQ(enc.find('/'), std::string::npos);
    EXPECT_EQ(enc.find('.'), std::string::npos);
    EXPECT_EQ(DecodeKey(enc), key);
  }
}

TEST(StoreTest, OpenRemovesTempsOfDeadProcesses) {
  testing::ScopedTempDir dir;
  ASSERT_TRUE(Store::Open(dir.path()));
  // pid 2^22+1 is above the default pid_max: never a live process.
  dir.WriteFile("tmp/4194305-0-1", "stale");
  dir.WriteFile(base::StrCat("tmp/", ::getpid(), "-0-1"), "ours");
  ASSERT_TRUE(Store::Open(dir.path()));
  EXPECT_FALSE(fs::exists(dir.path() + "/tmp/4194305-0-1"));
  EXPECT_TRUE(
      fs::exists(base::StrCat(dir.path(), "/tmp/", ::getpid(), "-0-1")));
}

TEST(StoreTest, ExclusiveLockWaitsForSharedHolders) {
  testing::ScopedTempDir dir;
  auto store = *Store::Open(dir.path());
  auto shared1 = store->Lock(false);
  auto shared2 = store->Lock(false);  // shared locks coexist
  ASSERT_TRUE(shared1 && shared2);
  std::atomic<bool> got_exclusive{false};
  std::thread t([&] {
    auto ex = store->Lock(true);
    got_exclusive = ex.has_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(got_exclusive.load());
  { auto drop1 = std::move(shared1).value(); }
  { auto drop2 = std::move(shared2).value(); }
  t.join();
  EXPECT_TRUE(got_exclusive.load());
}

}  // namespace
}  // namespace strata::store
