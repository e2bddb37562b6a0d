#include "store/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

namespace strata::store {

using base::Code;
using base::Digest;
using base::ErrnoText;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr size_t kWriteBuffer = 1 << 20;

Status MkdirAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return MakeError(Code::kIo, path, ": ", ec.message());
  return base::OkStatus();
}

// Removes temp entries whose writer process is gone ("<pid>-...").
void RemoveStaleTemps(const std::string& tmp_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tmp_dir, ec)) {
    std::string name = entry.path().filename();
    int64_t pid = 0;
    size_t dash = name.find('-');
    if (dash == std::string::npos ||
        !base::ParseInt64(name.substr(0, dash), &pid) || pid <= 0) {
      continue;
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code rm_ec;
      std::filesystem::remove_all(entry.path(), rm_ec);
    }
  }
}

}  // namespace

std::string DefaultRoot() {
  if (const char* r = std::getenv("STRATA_ROOT"); r && *r) return r;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return base::StrCat(x, "/strata");
  }
  const char* home = std::getenv("HOME");
  return base::StrCat(home && *home ? home : "/root", "/.cache/strata");
}

std::string EncodeKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    // '.' is encoded too: no key can become "." or "..", and no encoded
    // name can look like WriteFileAtomic's "<name>.tmp-..." temp files.
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (safe) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string DecodeKey(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size() && HexValue(name[i + 1]) >= 0 &&
        HexValue(name[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(name[i + 1]) * 16 +
                                      HexValue(name[i + 2])));
      i += 2;
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

// ---- BlobWriter ----

BlobWriter::BlobWriter(std::string blob_dir, std::string tmp_path,
                       base::UniqueFd fd)
    : blob_dir_(std::move(blob_dir)),
      tmp_path_(std::move(tmp_path)),
      fd_(std::move(fd)) {
  buffer_.reserve(kWriteBuffer);
}

BlobWriter::~BlobWriter() {
  if (!committed_) ::unlink(tmp_path_.c_str());
}

// Runs of zeros become holes (a layer holding a sparse file stays sparse
// in the store); everything else is written as it comes. Every write but
// the last is a whole number of kWriteBuffers, so units stay aligned to
// the file.
Status BlobWriter::WriteOut(std::span<const uint8_t> data) {
  constexpr size_t kHoleUnit = 64 << 10;
  static_assert(kWriteBuffer % kHoleUnit == 0);
  base::FdSink sink(fd_.get(), tmp_path_);
  while (!data.empty()) {
    size_t n = std::min(data.size(), kHoleUnit);
    std::span<const uint8_t> chunk = data.first(n);
    bool zero = n == kHoleUnit && chunk[0] == 0 &&
                std::memcmp(chunk.data(), chunk.data() + 1, n - 1) == 0;
    if (zero) {
      if (::lseek(fd_.get(), static_cast<off_t>(n), SEEK_CUR) < 0) {
        return MakeError(Code::kIo, tmp_path_, ": lseek: ", ErrnoText(errno));
      }
    } else {
      STRATA_TRY(sink.Write(chunk));
    }
    ends_in_hole_ = zero;
    data = data.subspan(n);
  }
  return base::OkStatus();
}

Status BlobWriter::Flush() {
  STRATA_TRY(WriteOut(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(buffer_.data()), buffer_.size())));
  buffer_.clear();
  return base::OkStatus();
}

Status BlobWriter::Write(std::span<const uint8_t> data) {
  hash_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  auto keep = [&](std::span<const uint8_t> d) {
    buffer_.append(reinterpret_cast<const char*>(d.data()), d.size());
  };
  if (!buffer_.empty()) {
    size_t take = std::min(data.size(), kWriteBuffer - buffer_.size());
    keep(data.first(take));
    data = data.subspan(take);
    if (buffer_.size() < kWriteBuffer) return base::OkStatus();
    STRATA_TRY(Flush());
  }
  // Whole buffers' worth go straight out; the rest waits in the buffer.
  size_t direct = data.size() - data.size() % kWriteBuffer;
  if (direct > 0) STRATA_TRY(WriteOut(data.first(direct)));
  keep(data.subspan(direct));
  return base::OkStatus();
}

Result<Digest> BlobWriter::Commit(std::optional<Digest> expected) {
  STRATA_CHECK(!committed_);
  STRATA_TRY(Flush());
  if (ends_in_hole_ && ::ftruncate(fd_.get(), size_) != 0) {
    return MakeError(Code::kIo, tmp_path_, ": ftruncate: ", ErrnoText(errno));
  }
  Digest got = hash_.Finish();
  if (expected && *expected != got) {
    return MakeError(Code::kDigestMismatch, "digest mismatch: expected ",
                     expected->ToString(), ", got ", got.ToString());
  }
  fd_.reset();
  std::string final_path = base::StrCat(blob_dir_, "/", got.hex());
  if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0) {
    return MakeError(Code::kIo, final_path, ": rename: ", ErrnoText(errno));
  }
  committed_ = true;
  return got;
}

// ---- BlobReader ----

Result<size_t> BlobReader::Read(std::span<uint8_t> out) {
  STRATA_ASSIGN_OR_RETURN(size_t n, source_.Read(out));
  if (n > 0) {
    hash_.Update(std::span<const uint8_t>(out.data(), n));
    return n;
  }
  if (!checked_) {
    checked_ = true;
    Digest got = hash_.Finish();
    if (got != want_) {
      return MakeError(Code::kDigestMismatch, "blob ", want_.ToString(),
                       " is corrupt (content hashes to ", got.ToString(), ")");
    }
  }
  return size_t{0};
}

// ---- Store ----

Result<std::unique_ptr<Store>> Store::Open(const std::string& root) {
  std::unique_ptr<Store> store(new Store(root));
  STRATA_TRY(MkdirAll(root));
  std::string version_path = root + "/store-version";
  Result<std::string> version = base::ReadFile(version_path);
  if (version) {
    if (base::TrimAscii(*version) != std::to_string(kStoreVersion)) {
      return MakeError(Code::kUnsupported, root, ": store format version ",
                       base::TrimAscii(*version), " is not supported (want ",
                       kStoreVersion, "); use another --root");
    }
  } else if (version.error().code() == Code::kNotFound) {
    STRATA_TRY(
        base::WriteFileAtomic(version_path, base::StrCat(kStoreVersion, "\n")));
  } else {
    return std::move(version).error();
  }
  for (const char* sub : {"blobs/sha256", "tmp", "records"}) {
    STRATA_TRY(MkdirAll(base::StrCat(root, "/", sub)));
  }
  RemoveStaleTemps(root + "/tmp");
  return store;
}

Result<StoreLock> Store::Lock(bool exclusive) const {
  std::string path = root_ + "/lock";
  base::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return MakeError(Code::kIo, path, ": ", ErrnoText(errno));
  while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno != EINTR) {
      return MakeError(Code::kIo, path, ": flock: ", ErrnoText(errno));
    }
  }
  return StoreLock(std::move(fd));
}

std::string Store::BlobPath(const Digest& digest) const {
  return base::StrCat(root_, "/blobs/sha256/", digest.hex());
}

bool Store::HasBlob(const Digest& digest) const {
  return base::PathExists(BlobPath(digest));
}

Result<int64_t> Store::BlobSize(const Digest& digest) const {
  struct stat st;
  if (::stat(BlobPath(digest).c_str(), &st) != 0) {
    return MakeError(errno == ENOENT ? Code::kNotFound : Code::kIo, "blob ",
                     digest.ToString(), ": ", ErrnoText(errno));
  }
  return static_cast<int64_t>(st.st_size);
}

std::string Store::NewTempPath() const {
  static std::atomic<uint64_t> counter{0};
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return base::StrCat(root_, "/tmp/", ::getpid(), "-", counter++, "-",
                      rng() % 1000000000);
}

Result<std::string> Store::Area(std::string_view sub) const {
  std::string path = base::StrCat(root_, "/", sub);
  STRATA_TRY(MkdirAll(path));
  return path;
}

Result<std::unique_ptr<BlobWriter>> Store::NewBlobWriter() const {
  std::string tmp = NewTempPath();
  base::UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return MakeError(Code::kIo, tmp, ": ", ErrnoText(errno));
  return std::unique_ptr<BlobWriter>(
      new BlobWriter(root_ + "/blobs/sha256", tmp, std::move(fd)));
}

Result<Digest> Store::PutBlob(std::string_view data) const {
  Digest digest = Digest::Of(data);
  if (HasBlob(digest)) return digest;
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> w, NewBlobWriter());
  STRATA_TRY(w->Write(data));
  return w->Commit(digest);
}

Result<std::string> Store::ReadBlob(const Digest& digest) const {
  Result<std::string> data = base::ReadFile(BlobPath(digest));
  if (!data) {
    if (data.error().code() == Code::kNotFound) {
      return MakeError(Code::kNotFound, "blob ", digest.ToString(),
                       " not found in store");
    }
    return std::move(data).error();
  }
  Digest got = Digest::Of(*data);
  if (got != digest) {
    return MakeError(Code::kDigestMismatch, "blob ", digest.ToString(),
                     " is corrupt (content hashes to ", got.ToString(), ")");
  }
  return data;
}

bool Store::BlobAvailable(const Digest& digest) const {
  if (HasBlob(digest)) return true;
  Result<std::optional<std::string>> where =
      GetRecord(kRemoteBlobKind, digest.hex());
  return where && where->has_value();
}

void Store::SetBlobFetcher(BlobFetcher fetcher) {
  std::lock_guard<std::mutex> lock(fetcher_mu_);
  fetcher_ = std::move(fetcher);
}

Result<std::unique_ptr<BlobReader>> Store::OpenBlob(
    const Digest& digest) const {
  Result<base::FdSource> src = base::FdSource::Open(BlobPath(digest));
  if (!src && src.error().code() == Code::kNotFound) {
    BlobFetcher fetch;
    {
      std::lock_guard<std::mutex> lock(fetcher_mu_);
      fetch = fetcher_;
    }
    if (fetch) {
      Result<bool> fetched = fetch(digest);
      if (!fetched) return std::move(fetched).error();
      if (*fetched) src = base::FdSource::Open(BlobPath(digest));
    }
  }
  if (!src) {
    if (src.error().code() == Code::kNotFound) {
      return MakeError(Code::kNotFound, "blob ", digest.ToString(),
                       " not found in store");
    }
    return std::move(src).error();
  }
  struct stat st;
  if (::fstat(src->fd(), &st) != 0) {
    return MakeError(Code::kIo, BlobPath(digest), ": ", ErrnoText(errno));
  }
  return std::unique_ptr<BlobReader>(
      new BlobReader(std::move(src).value(), digest, st.st_size));
}

Result<std::vector<Digest>> Store::ListBlobs() const {
  std::vector<Digest> out;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(root_ + "/blobs/sha256", ec)) {
    Result<Digest> d =
        Digest::Parse("sha256:" + entry.path().filename().string());
    if (d) out.push_back(*d);
  }
  if (ec) return MakeError(Code::kIo, root_, "/blobs: ", ec.message());
  return out;
}

Status Store::DeleteBlob(const Digest& digest) const {
  if (::unlink(BlobPath(digest).c_str()) != 0 && errno != ENOENT) {
    return MakeError(Code::kIo, BlobPath(digest), ": ", ErrnoText(errno));
  }
  return base::OkStatus();
}

std::string Store::RecordPath(std::string_view kind,
                              std::string_view key) const {
  return base::StrCat(root_, "/records/", EncodeKey(kind), "/", EncodeKey(key));
}

Status Store::PutRecord(std::string_view kind, std::string_view key,
                        std::string_view data) const {
  STRATA_TRY(MkdirAll(base::StrCat(root_, "/records/", EncodeKey(kind))));
  return base::WriteFileAtomic(RecordPath(kind, key), data);
}

Result<std::optional<std::string>> Store::GetRecord(std::string_view kind,
                                                    std::string_view key,
                                                    bool touch) const {
  std::string path = RecordPath(kind, key);
  Result<std::string> data = base::ReadFile(path);
  if (!data) {
    if (data.error().code() == Code::kNotFound) {
      return std::optional<std::string>();
    }
    return std::move(data).error();
  }
  // Last use drives prune-by-age; failing to touch only ages it early.
  if (touch) ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  return std::optional<std::string>(std::move(data).value());
}

Result<std::vector<RecordInfo>> Store::ListRecords(
    std::string_view kind) const {
  std::vector<RecordInfo> out;
  std::string dir = base::StrCat(root_, "/records/", EncodeKey(kind));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st;
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    std::string name = entry.path().filename();
    if (name.find('.') != std::string::npos) continue;  // a temp file
    out.push_back({DecodeKey(name), static_cast<int64_t>(st.st_mtime),
                   static_cast<int64_t>(st.st_size)});
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return MakeError(Code::kIo, dir, ": ", ec.message());
  }
  return out;
}

Status Store::DeleteRecord(std::string_view kind, std::string_view key) const {
  std::string path = RecordPath(kind, key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return MakeError(Code::kIo, path, ": ", ErrnoText(errno));
  }
  return base::OkStatus();
}

}  // namespace strata::store
