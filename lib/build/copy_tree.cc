// The result tree of a COPY/ADD step: the dest state (the step's writes
// over the dest view) and fsutil's copier applied to it (copy.go's
// prepareTargetDir, copy, copyDirectory, createParentDirs, MkdirAll).
#include <algorithm>

#include "base/str.h"
#include "build/copy_internal.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using copy_internal::AbsOf;
using copy_internal::BaseName;
using copy_internal::JoinKey;
using copy_internal::KeyOf;
using copy_internal::ParentKey;
using layer::EntryType;

namespace copy_internal {

bool WalkOrderLess::operator()(const std::string& a,
                               const std::string& b) const {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    if (x == '/') return true;
    if (y == '/') return false;
    return x < y;
  }
  return a.size() < b.size();
}

}  // namespace copy_internal

namespace {

std::vector<layer::Xattr> UnionXattrs(const std::vector<layer::Xattr>& old,
                                      const std::vector<layer::Xattr>& add) {
  std::map<std::string, std::string> merged;
  for (const layer::Xattr& x : old) merged[x.name] = x.value;
  for (const layer::Xattr& x : add) merged[x.name] = x.value;
  std::vector<layer::Xattr> out;
  for (auto& [name, value] : merged) out.push_back({name, value});
  return out;
}

size_t Depth(std::string_view rel) {
  return static_cast<size_t>(std::count(rel.begin(), rel.end(), '/')) + 1;
}

}  // namespace

// ------------------------------------------------------------ dest state

base::Result<CopyOperation::Impl::DestInfo> CopyOperation::Impl::Lookup(
    const std::string& key) {
  DestInfo info;
  if (key.empty()) {
    info.kind = DestInfo::Kind::kDir;
    return info;
  }
  if (auto it = tree_.find(key); it != tree_.end()) {
    const layer::Entry& e = it->second.entry;
    info.in_tree = true;
    info.kind = e.type == EntryType::kDirectory ? DestInfo::Kind::kDir
                : e.type == EntryType::kSymlink ? DestInfo::Kind::kSymlink
                                                : DestInfo::Kind::kOther;
    info.link_target = e.link_target;
    return info;
  }
  if (link_) return info;  // --link: scratch below what this step wrote
  std::string parent = ParentKey(key);
  STRATA_ASSIGN_OR_RETURN(DestInfo p, Lookup(parent));
  if (p.kind != DestInfo::Kind::kDir) return info;
  if (p.in_tree && !tree_.at(parent).in_view) return info;
  auto names = view_children_.find(parent);
  if (names == view_children_.end()) {
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> list,
                            view_->ReadDir(AbsOf(parent)));
    names = view_children_
                .emplace(parent, std::set<std::string>(list.begin(),
                                                       list.end()))
                .first;
  }
  if (!names->second.contains(BaseName(key))) return info;
  STRATA_ASSIGN_OR_RETURN(auto st, view_->Lstat(AbsOf(key)));
  if (!st) return info;
  info.kind = st->type == EntryType::kDirectory ? DestInfo::Kind::kDir
              : st->type == EntryType::kSymlink ? DestInfo::Kind::kSymlink
                                                : DestInfo::Kind::kOther;
  info.link_target = st->link_target;
  return info;
}

base::Result<std::string> CopyOperation::Impl::ResolveDest(
    std::string_view abs, bool follow_final) {
  copy_internal::LinkLookup lookup =
      [this](const std::string& p) -> base::Result<copy_internal::LinkInfo> {
    STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(KeyOf(p)));
    copy_internal::LinkInfo out;
    out.exists = info.kind != DestInfo::Kind::kMissing;
    out.is_symlink = info.kind == DestInfo::Kind::kSymlink;
    out.target = info.link_target;
    return out;
  };
  return copy_internal::ResolveInRoot(lookup, abs, follow_final);
}

base::Result<std::vector<layer::Xattr>> CopyOperation::Impl::ViewXattrs(
    const std::string& key) {
  STRATA_ASSIGN_OR_RETURN(std::vector<layer::Xattr> all,
                          view_->Xattrs(AbsOf(key)));
  std::erase_if(all, [](const layer::Xattr& x) {
    return !copy_internal::KeepXattr(x.name, true);
  });
  return all;
}

base::Status CopyOperation::Impl::EnsureInTree(const std::string& key) {
  if (key.empty() || tree_.contains(key)) return base::OkStatus();
  STRATA_TRY(EnsureInTree(ParentKey(key)));
  STRATA_ASSIGN_OR_RETURN(auto st, view_->Lstat(AbsOf(key)));
  if (!st || st->type != EntryType::kDirectory) {
    return MakeError(Code::kInternal, AbsOf(key),
                     " is not a directory of the stage");
  }
  // An existing parent: written with the stage's metadata so the layer
  // applies onto any base.
  Node node;
  node.entry.type = EntryType::kDirectory;
  node.entry.mode = st->mode & 07777;
  node.entry.uid = st->uid;
  node.entry.gid = st->gid;
  node.entry.mtime = st->mtime;
  STRATA_ASSIGN_OR_RETURN(node.entry.xattrs, ViewXattrs(key));
  node.in_view = true;
  node.item = -1;
  Put(key, std::move(node));
  return base::OkStatus();
}

CopyOperation::Impl::Node CopyOperation::Impl::Created(bool chowned) const {
  Node node;
  node.entry.type = EntryType::kDirectory;
  node.entry.mode = 0755;
  if (chowned && options_.chown) {
    node.entry.uid = options_.chown->uid;
    node.entry.gid = options_.chown->gid;
  }
  node.entry.mtime = {options_.source_date_epoch.value_or(0), 0};
  node.item = item_;
  return node;
}

base::Status CopyOperation::Impl::MkdirAll(const std::string& key,
                                           bool chowned) {
  if (key.empty()) return base::OkStatus();
  std::string prefix;
  for (const std::string& part : base::Split(key, '/')) {
    prefix = JoinKey(prefix, part);
    STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(prefix));
    if (info.kind == DestInfo::Kind::kDir) {
      STRATA_TRY(EnsureInTree(prefix));
    } else if (info.kind == DestInfo::Kind::kMissing) {
      Put(prefix, Created(chowned));
    } else {
      return MakeError(Code::kInvalidArgument, "mkdir ", AbsOf(prefix),
                       ": not a directory");
    }
  }
  return base::OkStatus();
}

void CopyOperation::Impl::Put(const std::string& key, Node node) {
  if (recording_) {
    copy_internal::Record record;
    record.key = key;
    if (node.link) {
      auto [it, fresh] =
          item_links_.emplace(std::make_pair(node.link->a, node.link->b), key);
      if (!fresh) record.link_first = it->second;
    }
    record.node = node;
    records_.push_back(std::move(record));
  }
  tree_.insert_or_assign(key, std::move(node));
}

base::Result<bool> CopyOperation::Impl::PutDeferred(const std::string& key,
                                                    Node node) {
  auto it = tree_.find(key);
  if (it != tree_.end() && it->second.item > node.item) {
    // A later source wrote this path: it wins, as it would have been
    // copied after this one; but a file and a directory cannot replace
    // each other.
    bool old_dir = it->second.entry.type == EntryType::kDirectory;
    bool new_dir = node.entry.type == EntryType::kDirectory;
    if (old_dir != new_dir) {
      return MakeError(Code::kInvalidArgument, "cannot copy to ", AbsOf(key),
                       ": a later source writes a ",
                       old_dir ? "directory" : "file", " there");
    }
    return false;
  }
  Put(key, std::move(node));
  return true;
}

void CopyOperation::Impl::RemoveSubtree(const std::string& key) {
  auto it = tree_.find(key);
  if (it == tree_.end()) return;
  std::string prefix = key + "/";
  auto end = std::next(it);
  while (end != tree_.end() && end->first.starts_with(prefix)) ++end;
  tree_.erase(it, end);
}

base::Status CopyOperation::Impl::CheckFileTarget(const std::string& key) {
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(key));
  if (info.kind == DestInfo::Kind::kDir) {
    return MakeError(Code::kInvalidArgument, "cannot replace to directory ",
                     AbsOf(key), " with file");
  }
  return base::OkStatus();
}

base::Result<CopyOperation::Impl::Node> CopyOperation::Impl::CopiedNode(
    const Match& match, const std::string& abs, const FsNode& node) {
  Node out;
  layer::Entry& e = out.entry;
  e.type = node.type;
  e.mode = node.mode;
  if (options_.chmod && node.type != EntryType::kSymlink) {
    e.mode = options_.chmod->Apply(node.mode,
                                   node.type == EntryType::kDirectory);
  }
  e.uid = options_.chown ? options_.chown->uid : node.uid;
  e.gid = options_.chown ? options_.chown->gid : node.gid;
  e.mtime = node.mtime;
  e.link_target = node.link_target;
  e.dev_major = node.dev_major;
  e.dev_minor = node.dev_minor;
  STRATA_ASSIGN_OR_RETURN(e.xattrs, match.fs->Xattrs(abs));
  if (node.type == EntryType::kRegular) {
    e.size = node.size;
    out.content = copy_internal::FsContent{match.fs, abs, node};
    if (node.nlink > 1) {
      out.link = copy_internal::LinkKey{item_, node.device, node.inode};
    }
  }
  out.item = item_;
  return out;
}

// ------------------------------------------------------------ the copier

base::Result<std::string> CopyOperation::Impl::PrepareTarget(
    const Match& match) {
  std::string dst_key = KeyOf(dst_);
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(dst_key));
  if (info.kind == DestInfo::Kind::kSymlink) {  // os.Stat follows it
    STRATA_ASSIGN_OR_RETURN(std::string real, ResolveDest(dst_, true));
    STRATA_ASSIGN_OR_RETURN(info, Lookup(KeyOf(real)));
  }
  bool src_dir = match.node.type == EntryType::kDirectory;
  std::string dest_key = dst_key;
  if (!src_dir && info.kind == DestInfo::Kind::kDir) {
    dest_key = JoinKey(dst_key, BaseName(match.src));
  }
  std::string target = ParentKey(dest_key);
  if (src_dir && info.kind == DestInfo::Kind::kMissing) target = dest_key;
  if (dest_key.empty()) target.clear();
  STRATA_TRY(MkdirAll(target));
  return dest_key;
}

base::Status CopyOperation::Impl::ExpandMatch(const Match& match) {
  STRATA_ASSIGN_OR_RETURN(std::string dest_key, PrepareTarget(match));
  if (match.node.type != EntryType::kDirectory) {
    return CopyNonDir(dest_key, match, match.followed, match.node);
  }
  STRATA_TRY(CopyTopDir(dest_key, match));
  return WalkMatch(match, dest_key);
}

base::Status CopyOperation::Impl::CopyTopDir(const std::string& key,
                                             const Match& match) {
  if (key.empty()) return base::OkStatus();  // the root is not an entry
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(key));
  if (info.kind == DestInfo::Kind::kMissing) {
    STRATA_ASSIGN_OR_RETURN(Node node,
                            CopiedNode(match, match.followed, match.node));
    Put(key, std::move(node));
    return base::OkStatus();
  }
  if (info.kind != DestInfo::Kind::kDir) {
    return MakeError(Code::kInvalidArgument, "cannot copy to non-directory: ",
                     AbsOf(key));
  }
  // An existing top directory keeps its metadata but gets the source's
  // timestamp back (fsutil's restoreFileTimestamp).
  STRATA_TRY(EnsureInTree(key));
  Node node = tree_.at(key);
  node.entry.mtime = match.node.mtime;
  Put(key, std::move(node));
  return base::OkStatus();
}

base::Status CopyOperation::Impl::CopyNestedDir(const std::string& key,
                                                const Match& match,
                                                const std::string& abs,
                                                const FsNode& node) {
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(key));
  if (info.kind != DestInfo::Kind::kMissing &&
      info.kind != DestInfo::Kind::kDir) {
    return MakeError(Code::kInvalidArgument, "cannot copy to non-directory: ",
                     AbsOf(key));
  }
  STRATA_ASSIGN_OR_RETURN(Node copied, CopiedNode(match, abs, node));
  if (info.kind == DestInfo::Kind::kDir) {
    // Merged into an existing directory: its metadata is replaced, its
    // xattrs are added to (copyXAttrs removes none).
    STRATA_TRY(EnsureInTree(key));
    const Node& old = tree_.at(key);
    copied.in_view = old.in_view;
    copied.entry.xattrs = UnionXattrs(old.entry.xattrs, copied.entry.xattrs);
  }
  Put(key, std::move(copied));
  return base::OkStatus();
}

base::Status CopyOperation::Impl::CopyNonDir(const std::string& key,
                                             const Match& match,
                                             const std::string& abs,
                                             const FsNode& node) {
  if (key.empty()) {
    return MakeError(Code::kInvalidArgument, "cannot replace to directory / "
                                             "with file");
  }
  STRATA_TRY(CheckFileTarget(key));
  STRATA_ASSIGN_OR_RETURN(Node copied, CopiedNode(match, abs, node));
  Put(key, std::move(copied));
  return base::OkStatus();
}

// A directory of the walk (fsutil's parentDirs entry).
struct CopyOperation::Impl::Frame {
  size_t depth = 0;
  std::string key;
  context::MatchInfo include;
  context::MatchInfo exclude;
  bool copied = false;
  std::string abs;
  FsNode node;
};

base::Status CopyOperation::Impl::CreatePendingParents(
    std::vector<Frame>& stack, const Match& match) {
  for (Frame& frame : stack) {
    if (frame.copied) continue;
    STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(frame.key));
    if (info.kind == DestInfo::Kind::kMissing) {
      STRATA_ASSIGN_OR_RETURN(Node node, CopiedNode(match, frame.abs,
                                                    frame.node));
      Put(frame.key, std::move(node));
    } else if (info.kind == DestInfo::Kind::kDir) {
      // copyDirectoryOnly on an existing directory only chmods it (to the
      // source's mode, without --chmod).
      STRATA_TRY(EnsureInTree(frame.key));
      Node node = tree_.at(frame.key);
      node.entry.mode = frame.node.mode;
      Put(frame.key, std::move(node));
    } else {
      return MakeError(Code::kInvalidArgument,
                       "cannot copy to non-directory: ", AbsOf(frame.key));
    }
    frame.copied = true;
  }
  return base::OkStatus();
}

base::Status CopyOperation::Impl::WalkMatch(const Match& match,
                                            const std::string& dest_key) {
  std::vector<Frame> stack(1);
  stack[0].key = dest_key;
  stack[0].copied = true;
  const std::string& base = match.followed;
  auto visit = [&](const std::string& abs,
                   const FsNode& node) -> base::Result<bool> {
    std::string rel = base == "/" ? abs.substr(1) : abs.substr(base.size() + 1);
    size_t depth = Depth(rel);
    while (stack.back().depth >= depth) stack.pop_back();
    bool include = true;
    bool excluded = false;
    Frame frame;
    frame.depth = depth;
    frame.key = JoinKey(stack.back().key, BaseName(abs));
    frame.abs = abs;
    frame.node = node;
    if (include_) {
      auto m = include_->MatchesUsingParentResults(rel, stack.back().include,
                                                   &frame.include);
      if (!m) {
        return MakeError(Code::kParse, "failed to match includepatterns: ",
                         m.error().message());
      }
      include = *m;
    }
    if (exclude_) {
      auto m = exclude_->MatchesUsingParentResults(rel, stack.back().exclude,
                                                   &frame.exclude);
      if (!m) {
        return MakeError(Code::kParse, "failed to match excludepatterns: ",
                         m.error().message());
      }
      excluded = *m;
      if (excluded) include = false;
    }
    if (node.socket) return false;
    if (node.type == EntryType::kDirectory) {
      if (include) {
        STRATA_TRY(CreatePendingParents(stack, match));
        STRATA_TRY(CopyNestedDir(frame.key, match, abs, node));
        frame.copied = true;
      }
      stack.push_back(std::move(frame));
      // Below an excluded directory everything stays excluded unless a
      // '!' pattern can bring something back.
      return !(excluded && !exclude_->exclusions());
    }
    if (!include) return false;
    STRATA_TRY(CreatePendingParents(stack, match));
    STRATA_TRY(CopyNonDir(frame.key, match, abs, node));
    return false;
  };
  return match.fs->Walk(base, visit);
}

}  // namespace strata::build
