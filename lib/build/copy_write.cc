// Writing a COPY/ADD step's layer: fetching URLs, extracting archives
// (BuildKit's unpack/applyRootArchive onto the result tree), then emitting
// the tree in LayerWriter order with file contents streamed.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "base/str.h"
#include "build/copy_internal.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using copy_internal::AbsOf;
using copy_internal::Deferred;
using copy_internal::JoinKey;
using copy_internal::KeyOf;
using copy_internal::ParentKey;
using layer::EntryType;

CopyOperation::Impl::~Impl() {
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

base::Result<std::string> CopyOperation::Impl::TempPath() {
  if (temp_dir_.empty()) {
    std::string parent = options_.temp_dir;
    if (parent.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    std::string templ = parent + "/strata-copy-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      return MakeError(Code::kIo, "mkdtemp in ", parent, ": ",
                       base::ErrnoText(errno));
    }
    temp_dir_ = templ;
  }
  return base::StrCat(temp_dir_, "/f", ++temp_seq_);
}

void CopyOperation::ReuseDownloads(const CopyOperation& keyed) {
  impl_->ReuseDownloads(*keyed.impl_);
}

void CopyOperation::Impl::ReuseDownloads(const Impl& keyed) {
  for (copy_internal::Deferred& mine : deferred_) {
    if (!mine.is_url || mine.fetched) continue;
    for (const copy_internal::Deferred& theirs : keyed.deferred_) {
      if (theirs.is_url && theirs.url == mine.url && theirs.fetched) {
        mine.fetched = theirs.fetched;
        mine.fetched_path = theirs.fetched_path;
        break;
      }
    }
  }
}

base::Status CopyOperation::Impl::Fetch(Deferred& d) {
  if (d.fetched) return base::OkStatus();
  STRATA_ASSIGN_OR_RETURN(std::string path, TempPath());
  STRATA_ASSIGN_OR_RETURN(FetchResult fetched, FetchUrl(d.url, path));
  if (d.checksum && *d.checksum != fetched.digest) {
    return MakeError(Code::kDigestMismatch, "digest mismatch for ", d.url,
                     ": expected ", d.checksum->ToString(), ", got ",
                     fetched.digest.ToString());
  }
  d.fetched = fetched;
  d.fetched_path = path;
  return base::OkStatus();
}

base::Status CopyOperation::Impl::Materialize(Deferred& d) {
  item_ = d.item;
  if (!d.is_url) {
    STRATA_ASSIGN_OR_RETURN(auto input, d.fs->Open(d.abs, d.node));
    return Extract(d, *input);
  }
  STRATA_TRY(Fetch(d));
  if (d.unpack) {
    STRATA_ASSIGN_OR_RETURN(base::FdSource probe,
                            base::FdSource::Open(d.fetched_path));
    if (IsTarArchive(probe)) {
      STRATA_TRY(MkdirAll(d.dir_key));
      STRATA_ASSIGN_OR_RETURN(base::FdSource input,
                              base::FdSource::Open(d.fetched_path));
      return Extract(d, input);
    }
  }
  STRATA_TRY(CheckFileTarget(d.file_key));
  Node node = Created();
  node.entry.type = EntryType::kRegular;
  node.entry.mode =
      options_.chmod ? options_.chmod->Apply(0600, false) : 0600;
  node.entry.size = d.fetched->size;
  if (d.fetched->last_modified) {
    node.entry.mtime = {*d.fetched->last_modified, 0};
  }
  node.content =
      copy_internal::HostContent{d.fetched_path, d.fetched->digest};
  STRATA_ASSIGN_OR_RETURN(bool put, PutDeferred(d.file_key, std::move(node)));
  (void)put;
  return base::OkStatus();
}

base::Status CopyOperation::Impl::Extract(const Deferred& d,
                                          base::Source& input) {
  base::Status status = ReadTar(
      input, [&](const TarMember& member, base::Source* content) {
        return ExtractMember(d, member, content);
      });
  if (!status) {
    std::string what = d.is_url ? d.url : d.abs;
    return std::move(status).error().WithContext(
        base::StrCat("extracting ", what));
  }
  return base::OkStatus();
}

base::Status CopyOperation::Impl::ExtractMember(const Deferred& d,
                                                const TarMember& member,
                                                base::Source* content) {
  // cleanRootTarPath: leading '/' dropped, cleaned, never above the root.
  auto name = layer::CleanLayerPath(member.name);
  if (!name) {
    return MakeError(Code::kInvalidArgument, "archive path \"", member.name,
                     "\" is outside extraction root");
  }
  if (name->empty()) return base::OkStatus();  // the root itself
  const std::string& root = d.dir_key;
  // resolveRootPath: parents (and a directory itself) are resolved through
  // symlinks inside the extraction root.
  copy_internal::LinkLookup lookup =
      [&](const std::string& p) -> base::Result<copy_internal::LinkInfo> {
    STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(JoinKey(root, KeyOf(p))));
    copy_internal::LinkInfo out;
    out.exists = info.kind != DestInfo::Kind::kMissing;
    out.is_symlink = info.kind == DestInfo::Kind::kSymlink;
    out.target = info.link_target;
    return out;
  };
  bool is_dir = member.type == EntryType::kDirectory;
  STRATA_ASSIGN_OR_RETURN(std::string rel, copy_internal::ResolveInRoot(
                                               lookup, *name, is_dir));
  if (rel == "/") return base::OkStatus();
  std::string key = JoinKey(root, KeyOf(rel));
  // Missing parents inside the archive: 0755, root-owned, not --chown'd.
  std::string parent = ParentKey(key);
  if (parent.size() > root.size()) {
    std::string prefix = root;
    for (const std::string& part :
         base::Split(root.empty() ? parent : parent.substr(root.size() + 1),
                     '/')) {
      prefix = JoinKey(prefix, part);
      STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(prefix));
      if (info.kind == DestInfo::Kind::kDir) {
        STRATA_TRY(EnsureInTree(prefix));
      } else if (info.kind == DestInfo::Kind::kMissing) {
        STRATA_TRY(PutDeferred(prefix, Created(false)));
      } else {
        return MakeError(Code::kInvalidArgument, "mkdir ", AbsOf(prefix),
                         ": not a directory");
      }
    }
  }
  STRATA_ASSIGN_OR_RETURN(DestInfo existing, Lookup(key));
  Node node;
  node.item = d.item;
  bool later = existing.in_tree && tree_.at(key).item > d.item;
  if (!later && existing.kind != DestInfo::Kind::kMissing &&
      (existing.kind != DestInfo::Kind::kDir || !is_dir)) {
    RemoveSubtree(key);  // RemoveAll: the member replaces what was there
  } else if (existing.kind == DestInfo::Kind::kDir) {
    STRATA_TRY(EnsureInTree(key));
    node.in_view = tree_.at(key).in_view;
  }
  layer::Entry& e = node.entry;
  e.type = member.type;
  e.mode = member.mode;
  e.uid = options_.chown ? options_.chown->uid : member.uid;
  e.gid = options_.chown ? options_.chown->gid : member.gid;
  e.mtime = member.mtime.sec < 0 ? layer::Timestamp{} : member.mtime;
  e.link_target = member.link_target;
  e.dev_major = member.dev_major;
  e.dev_minor = member.dev_minor;
  for (const layer::Xattr& x : member.xattrs) {
    if (copy_internal::KeepXattr(x.name, false)) e.xattrs.push_back(x);
  }
  if (member.type == EntryType::kRegular) {
    STRATA_ASSIGN_OR_RETURN(std::string path, TempPath());
    base::UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return MakeError(Code::kIo, "create ", path, ": ",
                       base::ErrnoText(errno));
    }
    base::FdSink file(fd.get(), path);
    base::DigestingSink sink(&file);
    STRATA_ASSIGN_OR_RETURN(int64_t size, base::CopyStream(*content, sink));
    e.size = size;
    node.content = copy_internal::HostContent{path, sink.Finish()};
  } else if (member.type == EntryType::kHardlink) {
    auto target = layer::CleanLayerPath(member.link_target);
    if (!target || target->empty()) {
      return MakeError(Code::kInvalidArgument, "archive hardlink \"",
                       member.name, "\" points outside extraction root");
    }
    STRATA_ASSIGN_OR_RETURN(std::string trel, copy_internal::ResolveInRoot(
                                                  lookup, *target, false));
    auto it = tree_.find(JoinKey(root, KeyOf(trel)));
    if (it == tree_.end() || it->second.entry.type != EntryType::kRegular ||
        it->second.item != d.item) {
      return MakeError(Code::kUnsupported, "archive hardlink \"", member.name,
                       "\": its target \"", member.link_target,
                       "\" is not a file of the archive");
    }
    if (!it->second.link) {
      it->second.link = copy_internal::LinkKey{d.item, ~uint64_t{0},
                                               ++temp_seq_};
    }
    e.type = EntryType::kRegular;
    e.link_target.clear();
    e.size = it->second.entry.size;
    node.content = it->second.content;
    node.link = it->second.link;
  }
  STRATA_ASSIGN_OR_RETURN(bool put, PutDeferred(key, std::move(node)));
  (void)put;
  return base::OkStatus();
}

base::Status CopyOperation::Impl::Emit(layer::LayerWriter& writer) {
  std::map<copy_internal::LinkKey, std::string> first_of_group;
  for (const auto& [key, node] : tree_) {
    layer::Entry e = node.entry;
    e.path = key;
    if (e.type != EntryType::kRegular) {
      e.size = 0;
      STRATA_TRY(writer.Add(e));
      continue;
    }
    if (node.link) {
      auto [it, fresh] = first_of_group.emplace(*node.link, key);
      if (!fresh) {
        e.type = EntryType::kHardlink;
        e.link_target = it->second;
        e.size = 0;
        STRATA_TRY(writer.Add(e));
        continue;
      }
    }
    if (const auto* fs = std::get_if<copy_internal::FsContent>(&node.content)) {
      STRATA_ASSIGN_OR_RETURN(auto source, fs->fs->Open(fs->abs, fs->node));
      STRATA_TRY(writer.AddFile(e, *source));
    } else if (const auto* host =
                   std::get_if<copy_internal::HostContent>(&node.content)) {
      STRATA_TRY(writer.AddFileFromPath(e, host->path));
    } else if (const auto* in =
                   std::get_if<copy_internal::InlineContent>(&node.content)) {
      base::StringSource source(*in->data);
      STRATA_TRY(writer.AddFile(e, source));
    } else {
      e.size = 0;
      STRATA_TRY(writer.Add(e));
    }
  }
  return base::OkStatus();
}

base::Status CopyOperation::Impl::WriteLayer(layer::LayerWriter& writer) {
  if (written_) {
    return MakeError(Code::kInternal, "CopyOperation::Write called twice");
  }
  written_ = true;
  recording_ = false;
  for (Deferred& d : deferred_) STRATA_TRY(Materialize(d));
  return Emit(writer);
}

}  // namespace strata::build
