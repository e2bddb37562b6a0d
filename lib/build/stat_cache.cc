#include "build/stat_cache.h"

#include <chrono>
#include <sstream>

#include "base/file.h"

namespace strata::build {

namespace {

constexpr char kHeader[] = "strata-statcache 1";
// Entries changed this close to their save time are not trusted.
constexpr int64_t kRacyNs = 1'000'000'000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void StatCache::LoadLocked() {
  if (loaded_) return;
  loaded_ = true;
  if (path_.empty()) return;
  base::Result<std::string> text = base::ReadFile(path_);
  if (!text) return;
  std::istringstream in(*text);
  std::string header;
  std::getline(in, header);
  if (header.rfind(kHeader, 0) != 0) return;
  int64_t saved_at = 0;
  std::istringstream(header.substr(sizeof kHeader - 1)) >> saved_at;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string hex;
    Item item;
    if (!(f >> hex >> item.id.size >> item.id.mtime_ns >> item.id.ctime_ns >>
          item.id.inode >> item.id.device)) {
      continue;
    }
    std::string file;
    std::getline(f, file);
    if (file.empty() || file[0] != ' ') continue;
    file.erase(0, 1);
    base::Result<base::Digest> digest = base::Digest::Parse("sha256:" + hex);
    if (!digest) continue;
    if (item.id.ctime_ns >= saved_at - kRacyNs) continue;  // racily clean
    item.digest = *digest;
    items_[file] = item;
  }
}

std::optional<base::Digest> StatCache::Find(const std::string& file,
                                            const FileIdentity& id) {
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked();
  auto it = items_.find(file);
  if (it == items_.end() || !(it->second.id == id)) return std::nullopt;
  if (!it->second.used) {
    it->second.used = true;
    dirty_ = true;  // saved again: a newer save time keeps it trusted
  }
  return it->second.digest;
}

void StatCache::Remember(const std::string& file, const FileIdentity& id,
                         const base::Digest& digest) {
  if (file.find('\n') != std::string::npos) return;  // one line per entry
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked();
  items_[file] = {id, digest, true};
  dirty_ = true;
}

void StatCache::Save() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirty_ || path_.empty()) return;
  std::string out = std::string(kHeader) + " " + std::to_string(NowNs()) + "\n";
  for (const auto& [file, item] : items_) {
    if (!item.used) continue;
    out += item.digest.hex() + " " + std::to_string(item.id.size) + " " +
           std::to_string(item.id.mtime_ns) + " " +
           std::to_string(item.id.ctime_ns) + " " +
           std::to_string(item.id.inode) + " " +
           std::to_string(item.id.device) + " " + file + "\n";
  }
  if (base::WriteFileAtomic(path_, out)) dirty_ = false;
}

}  // namespace strata::build
