// Internals of the COPY/ADD engine (copy.h): source filesystems, the
// result tree and the planner state shared by copy_*.cc.
//
// Not part of the module's API: include only from lib/build/copy*.cc and
// the copy tests.
#ifndef STRATA_BUILD_COPY_INTERNAL_H_
#define STRATA_BUILD_COPY_INTERNAL_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "base/stream.h"
#include "build/copy.h"
#include "build/stat_cache.h"
#include "build/archive_unpack.h"
#include "build/http_fetch.h"
#include "context/pattern_matcher.h"
#include "layer/entry.h"
#include "layer/view.h"

namespace strata::build::copy_internal {

// ---------------------------------------------------------------- paths

/// "a/b" for "/a/b" and "" for "/" (tree keys have no leading '/').
std::string KeyOf(std::string_view abs);
/// "/a/b" for "a/b" and "/" for "".
std::string AbsOf(std::string_view key);
/// The parent key ("" for a top-level key).
std::string ParentKey(std::string_view key);
/// `dir` + "/" + `name`, or `name` when `dir` is "".
std::string JoinKey(std::string_view dir, std::string_view name);
/// The last component of a cleaned path ("/" gives "/").
std::string BaseName(std::string_view path);

/// Go's containsWildcards on a path: '*', '?' or '[' not escaped by '\'.
bool ContainsWildcards(std::string_view path);

/// What a path-resolution step needs to know about one absolute path.
struct LinkInfo {
  bool exists = false;
  bool is_symlink = false;
  std::string target;
};
using LinkLookup =
    std::function<base::Result<LinkInfo>(const std::string& abs)>;

/// continuity's fs.RootPath over `lookup`: resolves `path` (absolute or
/// relative to the root) component by component, symlink targets read as if
/// the root were "/" (".." stops there); a missing component and everything
/// after it is kept lexically. Returns the canonical absolute path. The
/// final component is followed only if `follow_final`. Io error beyond 255
/// links.
base::Result<std::string> ResolveInRoot(const LinkLookup& lookup,
                                        std::string_view path,
                                        bool follow_final);

// ---------------------------------------------------------- source fs

/// Metadata of one source entry.
struct FsNode {
  layer::EntryType type = layer::EntryType::kRegular;  // never kHardlink
  uint32_t mode = 0;                                   // 07777
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;  // regular files
  layer::Timestamp mtime;
  std::string link_target;
  int64_t ctime_ns = 0;  // the context's files: for the stat cache
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t device = 0;  // identity, for hard links
  uint64_t inode = 0;
  uint64_t nlink = 1;
  bool socket = false;  // skipped when copied
};

/// Called by SourceFs::Walk for each entry below the walked directory with
/// its canonical absolute path; returns whether to enter a directory.
using FsWalkFn =
    std::function<base::Result<bool>(const std::string& abs, const FsNode&)>;

/// A read-only filesystem COPY reads from. Paths are canonical absolute
/// paths ("/a/b": no symlink in the parents). Thread-safe.
class SourceFs {
 public:
  virtual ~SourceFs() = default;

  /// What it is, for messages: "build context", "stage builder".
  virtual std::string Describe() const = 0;
  /// Appended to "not found" messages.
  virtual std::string NotFoundHint() const { return ""; }

  /// The entry at `abs`, nullopt if missing.
  virtual base::Result<std::optional<FsNode>> Lstat(
      const std::string& abs) const = 0;
  /// Opens regular file `abs`, which must still be `node`.
  virtual base::Result<std::unique_ptr<base::Source>> Open(
      const std::string& abs, const FsNode& node) const = 0;
  /// The xattrs to copy from `abs`, sorted by name.
  virtual base::Result<std::vector<layer::Xattr>> Xattrs(
      const std::string& abs) const = 0;
  /// Visits everything below directory `dir` depth first, a directory
  /// before its contents, names in byte order.
  virtual base::Status Walk(const std::string& dir,
                            const FsWalkFn& fn) const = 0;

  /// RootPath resolution inside this filesystem.
  base::Result<std::string> Resolve(std::string_view path,
                                    bool follow_final) const;

  /// sha256 of regular file `abs` (streamed once, then cached; across
  /// builds too when the filesystem has a stat cache).
  base::Result<base::Digest> ContentDigest(const std::string& abs,
                                           const FsNode& node) const;

 protected:
  std::shared_ptr<StatCache> stat_cache_;  // the context's, else null

 private:
  mutable std::mutex digest_mu_;
  mutable std::unordered_map<std::string, base::Digest> digests_;
};

/// The build context (see CopySource::Context).
std::shared_ptr<SourceFs> NewContextFs(std::string dir,
                                       std::vector<std::string> patterns,
                                       std::string stat_cache_path);
/// A stage or image (see CopySource::View).
std::shared_ptr<SourceFs> NewViewFs(const layer::LayeredView* view,
                                    std::string name);

/// Keeps the xattrs COPY copies: never overlay ones; security.selinux only
/// when `keep_selinux`.
bool KeepXattr(std::string_view name, bool keep_selinux);

// ---------------------------------------------------------- result tree

/// File content from a source filesystem.
struct FsContent {
  std::shared_ptr<SourceFs> fs;
  std::string abs;
  FsNode node;
};
/// File content in a host file (downloads, extracted archive members).
struct HostContent {
  std::string path;
  std::optional<base::Digest> digest;  // when already known
};
/// File content held in memory (heredocs).
struct InlineContent {
  std::shared_ptr<const std::string> data;
};
using Content =
    std::variant<std::monostate, FsContent, HostContent, InlineContent>;

/// Files that are hard links of each other within one match: same item and
/// same source identity.
struct LinkKey {
  int item = 0;
  uint64_t a = 0;
  uint64_t b = 0;
  auto operator<=>(const LinkKey&) const = default;
};

/// One path of the result.
struct Node {
  layer::Entry entry;  // path left empty; the tree key is the path
  Content content;
  /// Directories: the dest view has a directory here, so it may hold names
  /// this step does not write.
  bool in_view = false;
  /// The item (match, URL, heredoc) that last wrote it; -1 for parents
  /// that already existed.
  int item = -1;
  std::optional<LinkKey> link;
};

/// Walk order: components compared bytewise, a directory before its
/// contents ('/' sorts before every other byte).
struct WalkOrderLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Tree = std::map<std::string, Node, WalkOrderLess>;

/// One change to the tree, in the order made, for the digest.
struct Record {
  enum class Kind { kNode, kArchive, kUrl };
  Kind kind = Kind::kNode;
  std::string key;
  Node node;               // kNode
  std::string link_first;  // kNode: first path of its hard-link group
  std::string detail;      // kArchive/kUrl: what else the result depends on
  int deferred = -1;       // kArchive/kUrl: index into Impl::deferred_
};

/// An item whose entries are only known once its content is read: a local
/// archive or a URL.
struct Deferred {
  int item = 0;
  bool is_url = false;
  // Local archive:
  std::shared_ptr<SourceFs> fs;
  std::string abs;
  FsNode node;
  // URL:
  std::string url;
  std::string file_key;  // where the file goes when not unpacked
  bool unpack = false;
  std::optional<base::Digest> checksum;
  std::optional<FetchResult> fetched;
  std::string fetched_path;
  // Both: the directory an archive is extracted into.
  std::string dir_key;
};

}  // namespace strata::build::copy_internal

namespace strata::build {

/// The planner: the result tree built by applying each item (a match of a
/// source, a URL, a heredoc) in order onto the dest view, as fsutil's
/// copier applies them onto a snapshot. Split over copy_select.cc (sources
/// and dest), copy_tree.cc (the copier), copy_digest.cc and copy_write.cc.
class CopyOperation::Impl {
 public:
  using Node = copy_internal::Node;
  using FsNode = copy_internal::FsNode;

  Impl(const CopyOptions& options, const layer::LayeredView* view);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // copy_select.cc.
  base::Status PlanAll(const CopySource& source,
                       const dockerfile::SourcesAndDest& paths);
  // copy_digest.cc.
  base::Result<base::Digest> Digest();
  // copy_write.cc.
  base::Status WriteLayer(layer::LayerWriter& writer);
  void ReuseDownloads(const Impl& keyed);

 private:
  /// What the dest state holds at a path.
  struct DestInfo {
    enum class Kind { kMissing, kDir, kSymlink, kOther } kind =
        Kind::kMissing;
    std::string link_target;
    bool in_tree = false;
  };
  /// One match of a local source.
  struct Match {
    std::shared_ptr<copy_internal::SourceFs> fs;
    std::string src;       // as matched (its base name names a copied file)
    std::string followed;  // resolved through symlinks
    FsNode node;           // of `followed`
    bool archive = false;  // ADD: a tar to extract
  };
  /// One source path of the instruction.
  struct SourcePlan {
    bool is_url = false;
    std::string url;
    std::vector<Match> matches;
    std::optional<context::PatternMatcher> include;  // --parents
  };
  struct Frame;

  // copy_select.cc.
  base::Status CheckSources(const dockerfile::SourcesAndDest& paths) const;
  base::Result<SourcePlan> PlanSource(const CopySource& source,
                                      const std::string& raw);
  base::Result<std::vector<Match>> Resolve(
      const std::shared_ptr<copy_internal::SourceFs>& fs,
      const std::string& src) const;
  base::Status CheckMultiSource(const dockerfile::SourcesAndDest& paths,
                                const std::vector<SourcePlan>& plans);
  base::Status PlanArchive(const Match& match);
  base::Status PlanUrl(const std::string& url);
  base::Status PlanHeredoc(const dockerfile::SourceContent& content);

  // copy_tree.cc: the dest state.
  base::Result<DestInfo> Lookup(const std::string& key);
  base::Result<std::string> ResolveDest(std::string_view abs,
                                        bool follow_final);
  base::Result<std::vector<layer::Xattr>> ViewXattrs(const std::string& key);
  base::Status EnsureInTree(const std::string& key);
  Node Created(bool chowned = true) const;
  base::Status MkdirAll(const std::string& key, bool chowned = true);
  void Put(const std::string& key, Node node);
  base::Result<bool> PutDeferred(const std::string& key, Node node);
  void RemoveSubtree(const std::string& key);
  base::Status CheckFileTarget(const std::string& key);
  base::Result<Node> CopiedNode(const Match& match, const std::string& abs,
                                const FsNode& node);

  // copy_tree.cc: fsutil's copier.
  base::Result<std::string> PrepareTarget(const Match& match);
  base::Status ExpandMatch(const Match& match);
  base::Status CopyTopDir(const std::string& key, const Match& match);
  base::Status CopyNestedDir(const std::string& key, const Match& match,
                             const std::string& abs, const FsNode& node);
  base::Status CopyNonDir(const std::string& key, const Match& match,
                          const std::string& abs, const FsNode& node);
  base::Status CreatePendingParents(std::vector<Frame>& stack,
                                    const Match& match);
  base::Status WalkMatch(const Match& match, const std::string& dest_key);

  // copy_digest.cc.
  base::Result<base::Digest> ContentSha(const Node& node);

  // copy_write.cc.
  base::Status Fetch(copy_internal::Deferred& d);
  base::Status Materialize(copy_internal::Deferred& d);
  base::Status Extract(const copy_internal::Deferred& d, base::Source& input);
  base::Status ExtractMember(const copy_internal::Deferred& d,
                             const TarMember& member, base::Source* content);
  base::Result<std::string> TempPath();
  base::Status Emit(layer::LayerWriter& writer);

  CopyOptions options_;
  bool link_ = false;
  const layer::LayeredView* view_ = nullptr;
  std::optional<context::PatternMatcher> include_;  // of the current source
  std::optional<context::PatternMatcher> exclude_;
  std::string dst_;         // the dest, resolved (absolute)
  std::string dst_text_;    // the dest as normalized, for messages
  std::string ensure_key_;  // what copy.Copy makes sure exists first
  bool dst_is_dir_ = false;
  int item_ = -1;
  bool recording_ = true;  // Put() logs records (while planning)
  copy_internal::Tree tree_;
  std::vector<copy_internal::Record> records_;
  std::vector<copy_internal::Deferred> deferred_;
  // Hard-link groups of the current item: source identity -> first path.
  std::map<std::pair<uint64_t, uint64_t>, std::string> item_links_;
  // Names of view directories already listed, by key.
  std::unordered_map<std::string, std::set<std::string>> view_children_;
  std::string temp_dir_;
  uint64_t temp_seq_ = 0;
  bool written_ = false;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_COPY_INTERNAL_H_
