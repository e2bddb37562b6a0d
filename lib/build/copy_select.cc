// Planning a COPY/ADD step: what each source selects (dispatchCopy's
// checks, wildcard resolution as fsutil's ResolveWildcards, --parents
// pivots) and where it goes (pathRelativeToWorkingDir, cleanPath).
#include <algorithm>

#include "base/str.h"
#include "build/archive_unpack.h"
#include "build/copy_internal.h"
#include "build/http_fetch.h"
#include "context/glob.h"
#include "context/safe_path.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using copy_internal::AbsOf;
using copy_internal::ContainsWildcards;
using copy_internal::KeyOf;
using copy_internal::SourceFs;

namespace {

// pathRelativeToWorkingDir + system.NormalizePath(keepSlash) + the file
// backend's cleanPath: an absolute clean path, and whether a trailing "/"
// or "/." marked it as a directory.
std::pair<std::string, bool> NormalizeDest(std::string_view dest,
                                           std::string_view workdir) {
  std::string p(dest);
  std::string joined;
  if (p.starts_with('/')) {
    joined = p;
  } else {
    if (p.empty() || p == ".") p = "./";
    joined = context::CleanPath(base::StrCat("/", workdir, "/", p));
  }
  bool is_dir = p.ends_with("/") || p.ends_with("/.");
  return {context::CleanPath(base::StrCat("/", joined)), is_dir};
}

// "/" + the cleaned path, ".." stopping at the root.
std::string CleanSource(std::string_view src) {
  return context::CleanPath(base::StrCat("/", src));
}

// Depth of a relative path: "a" is 1, "a/b" is 2.
size_t Depth(std::string_view rel) {
  return static_cast<size_t>(std::count(rel.begin(), rel.end(), '/')) + 1;
}

}  // namespace

CopyOperation::Impl::Impl(const CopyOptions& options,
                          const layer::LayeredView* view)
    : options_(options),
      // BuildKit takes the merge-op (--link) path only without --chmod.
      link_(options.link && !options.chmod),
      view_(view) {}

base::Result<std::vector<CopyOperation::Impl::Match>>
CopyOperation::Impl::Resolve(const std::shared_ptr<SourceFs>& fs,
                             const std::string& src) const {
  auto not_found = [&](const std::string& path) {
    return MakeError(Code::kNotFound, "\"", path, "\": not found in ",
                     fs->Describe(), fs->NotFoundHint());
  };
  std::vector<std::string> sources;
  if (!ContainsWildcards(src)) {
    sources.push_back(src);
  } else {
    // splitWildcards: the components before the first one with a wildcard
    // name a directory that must exist; the rest is matched against the
    // paths below it.
    std::vector<std::string> parts = base::Split(src.substr(1), '/');
    size_t first = 0;
    while (first < parts.size() && !ContainsWildcards(parts[first])) ++first;
    std::string dir = base::StrCat(
        "/", base::Join({parts.begin(), parts.begin() + first}, "/"));
    std::string pattern =
        base::Join({parts.begin() + first, parts.end()}, "/");
    STRATA_ASSIGN_OR_RETURN(std::string base, fs->Resolve(dir, true));
    STRATA_ASSIGN_OR_RETURN(auto base_node, fs->Lstat(base));
    if (!base_node) return not_found(dir);
    size_t max_depth = Depth(pattern);
    STRATA_TRY(fs->Walk(base, [&](const std::string& abs,
                                  const FsNode&) -> base::Result<bool> {
      std::string rel = base == "/" ? abs.substr(1) : abs.substr(base.size() + 1);
      base::Result<bool> match = context::GlobMatch(pattern, rel);
      if (match && *match) {
        sources.push_back(abs);
        return false;  // a matched directory is not entered
      }
      return Depth(rel) < max_depth;  // deeper paths cannot match
    }));
  }
  std::vector<Match> matches;
  for (const std::string& s : sources) {
    STRATA_ASSIGN_OR_RETURN(std::string followed, fs->Resolve(s, true));
    STRATA_ASSIGN_OR_RETURN(auto node, fs->Lstat(followed));
    if (!node) return not_found(s);
    if (node->socket) continue;  // a layer cannot hold a socket
    matches.push_back({fs, s, followed, *node, false});
  }
  return matches;
}

base::Status CopyOperation::Impl::CheckSources(
    const dockerfile::SourcesAndDest& paths) const {
  const char* cmd = options_.is_add ? "ADD" : "COPY";
  if (!options_.checksum.empty()) {
    if (!options_.is_add) {
      return MakeError(Code::kInvalidArgument,
                       "checksum can't be specified for COPY");
    }
    if (paths.source_paths.size() != 1) {
      return MakeError(Code::kInvalidArgument,
                       "checksum can't be specified for multiple sources");
    }
    const std::string& src = paths.source_paths[0];
    if (!IsHttpUrl(src) && !IsGitUrl(src)) {
      return MakeError(Code::kInvalidArgument,
                       "checksum requires HTTP(S) or Git sources");
    }
  }
  for (const std::string& src : paths.source_paths) {
    if (IsGitUrl(src)) {
      if (!options_.is_add) {
        return MakeError(Code::kInvalidArgument,
                         "source can't be a git ref for COPY");
      }
      return MakeError(Code::kUnsupported, cmd, " ", src,
                       ": git sources are not supported");
    }
    if (IsHttpUrl(src) && !options_.is_add) {
      return MakeError(Code::kInvalidArgument,
                       "source can't be a URL for COPY");
    }
  }
  return base::OkStatus();
}

base::Status CopyOperation::Impl::PlanAll(
    const CopySource& source, const dockerfile::SourcesAndDest& paths) {
  STRATA_TRY(CheckSources(paths));
  auto [dest, is_dir] = NormalizeDest(paths.dest_path, options_.workdir);
  dst_text_ = dest;
  dst_is_dir_ = is_dir;
  // fs.RootPath(dstRoot, dst) and the directory copy.Copy ensures first.
  STRATA_ASSIGN_OR_RETURN(dst_, ResolveDest(dest, true));
  std::string ensure = is_dir ? dest : context::DirName(dest);
  STRATA_ASSIGN_OR_RETURN(std::string ensure_abs, ResolveDest(ensure, true));
  ensure_key_ = KeyOf(ensure_abs);
  if (!options_.excludes.empty()) {
    auto matcher = context::PatternMatcher::New(options_.excludes);
    if (!matcher) {
      return MakeError(Code::kParse, "invalid excludepatterns: [",
                       base::Join(options_.excludes, " "),
                       "]: ", matcher.error().message());
    }
    exclude_ = std::move(*matcher);
  }
  std::vector<SourcePlan> plans;
  for (const std::string& src : paths.source_paths) {
    STRATA_ASSIGN_OR_RETURN(SourcePlan plan, PlanSource(source, src));
    plans.push_back(std::move(plan));
  }
  STRATA_TRY(CheckMultiSource(paths, plans));
  for (SourcePlan& plan : plans) {
    if (plan.is_url) {
      STRATA_TRY(PlanUrl(plan.url));
      continue;
    }
    include_ = std::move(plan.include);
    for (const Match& match : plan.matches) {
      ++item_;
      item_links_.clear();
      if (match.archive) {
        STRATA_TRY(PlanArchive(match));
      } else {
        STRATA_TRY(MkdirAll(ensure_key_));
        STRATA_TRY(ExpandMatch(match));
      }
    }
  }
  include_.reset();
  for (const dockerfile::SourceContent& content : paths.source_contents) {
    STRATA_TRY(PlanHeredoc(content));
  }
  return base::OkStatus();
}

base::Result<CopyOperation::Impl::SourcePlan> CopyOperation::Impl::PlanSource(
    const CopySource& source, const std::string& raw) {
  SourcePlan plan;
  if (IsHttpUrl(raw)) {
    plan.is_url = true;
    plan.url = raw;
    return plan;
  }
  const std::shared_ptr<SourceFs>& fs = source.fs();
  if (!fs) {
    return MakeError(Code::kInvalidArgument, "no source for \"", raw, "\"");
  }
  std::string src = raw;
  if (options_.parents) {
    // The "/./" pivot: what is below it keeps its path under dest.
    std::string pattern;
    size_t pivot = src.find("/./");
    if (pivot == std::string::npos) {
      pattern = src;
      src = "/";
    } else {
      pattern = src.substr(pivot + 3);
      src = src.substr(0, pivot);
    }
    pattern = KeyOf(CleanSource(pattern));
    if (!ContainsWildcards(src) && !ContainsWildcards(pattern)) {
      // BuildKit's RequiredPaths: a literal path must exist.
      std::string required = CleanSource(base::StrCat(src, "/", pattern));
      STRATA_ASSIGN_OR_RETURN(std::string followed,
                              fs->Resolve(required, true));
      STRATA_ASSIGN_OR_RETURN(auto node, fs->Lstat(followed));
      if (!node) {
        return MakeError(Code::kNotFound, "\"", required, "\": not found in ",
                         fs->Describe(), fs->NotFoundHint());
      }
    }
    if (!pattern.empty()) {
      auto matcher = context::PatternMatcher::New({pattern});
      if (!matcher) {
        return MakeError(Code::kParse, "invalid includepatterns: [", pattern,
                         "]: ", matcher.error().message());
      }
      plan.include = std::move(*matcher);
    }
  }
  STRATA_ASSIGN_OR_RETURN(plan.matches, Resolve(fs, CleanSource(src)));
  if (options_.unpack.value_or(options_.is_add)) {
    for (Match& match : plan.matches) {
      if (match.node.type != layer::EntryType::kRegular) continue;
      STRATA_ASSIGN_OR_RETURN(auto input, fs->Open(match.followed, match.node));
      match.archive = IsTarArchive(*input);
    }
  }
  return plan;
}

base::Status CopyOperation::Impl::CheckMultiSource(
    const dockerfile::SourcesAndDest& paths,
    const std::vector<SourcePlan>& plans) {
  size_t count = paths.source_contents.size();
  bool any_file = count > 0;
  for (const SourcePlan& plan : plans) {
    count += plan.is_url ? 1 : plan.matches.size();
    any_file = any_file || plan.is_url;
    for (const Match& m : plan.matches) {
      any_file = any_file || (m.node.type != layer::EntryType::kDirectory &&
                              !m.archive);
    }
  }
  if (count < 2 || dst_is_dir_ || !any_file) return base::OkStatus();
  // BuildKit would write each file over the previous one (#1853); the
  // classic builder's error says what to do instead. An existing directory
  // is fine: every file lands inside it.
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(KeyOf(dst_)));
  if (info.kind == DestInfo::Kind::kDir) return base::OkStatus();
  return MakeError(Code::kInvalidArgument, "When using ",
                   options_.is_add ? "ADD" : "COPY",
                   " with more than one source file, the destination must be "
                   "a directory and end with a /");
}

base::Status CopyOperation::Impl::PlanArchive(const Match& match) {
  // unpack(): the archive goes into dest itself, made a directory.
  std::string dir_key = KeyOf(dst_);
  STRATA_TRY(MkdirAll(dir_key));
  copy_internal::Deferred d;
  d.item = item_;
  d.fs = match.fs;
  d.abs = match.followed;
  d.node = match.node;
  d.dir_key = dir_key;
  deferred_.push_back(std::move(d));
  copy_internal::Record record;
  record.kind = copy_internal::Record::Kind::kArchive;
  record.key = dir_key;
  record.deferred = static_cast<int>(deferred_.size()) - 1;
  records_.push_back(std::move(record));
  return base::OkStatus();
}

base::Status CopyOperation::Impl::PlanUrl(const std::string& url) {
  ++item_;
  copy_internal::Deferred d;
  d.item = item_;
  d.is_url = true;
  d.url = url;
  d.unpack = options_.unpack.value_or(false);
  d.dir_key = KeyOf(dst_);
  if (!options_.checksum.empty()) {
    auto checksum = base::Digest::Parse(options_.checksum);
    if (!checksum) {
      return MakeError(Code::kInvalidArgument, "invalid checksum \"",
                       options_.checksum,
                       "\": only sha256:<64 hex digits> is supported");
    }
    d.checksum = *checksum;
  }
  STRATA_TRY(MkdirAll(ensure_key_));
  // prepareTargetDir for a file: inside dest if dest is a directory.
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(d.dir_key));
  d.file_key = info.kind == DestInfo::Kind::kDir
                   ? copy_internal::JoinKey(d.dir_key, UrlFileName(url))
                   : d.dir_key;
  STRATA_TRY(MkdirAll(copy_internal::ParentKey(d.file_key)));
  deferred_.push_back(std::move(d));
  copy_internal::Record record;
  record.kind = copy_internal::Record::Kind::kUrl;
  record.key = deferred_.back().file_key;
  record.deferred = static_cast<int>(deferred_.size()) - 1;
  records_.push_back(std::move(record));
  return base::OkStatus();
}

base::Status CopyOperation::Impl::PlanHeredoc(
    const dockerfile::SourceContent& content) {
  ++item_;
  STRATA_TRY(MkdirAll(ensure_key_));
  std::string dst_key = KeyOf(dst_);
  STRATA_ASSIGN_OR_RETURN(DestInfo info, Lookup(dst_key));
  std::string key =
      info.kind == DestInfo::Kind::kDir
          ? copy_internal::JoinKey(dst_key,
                                   copy_internal::BaseName(content.path))
          : dst_key;
  STRATA_TRY(MkdirAll(copy_internal::ParentKey(key)));
  STRATA_TRY(CheckFileTarget(key));
  Node node = Created();
  node.entry.type = layer::EntryType::kRegular;
  node.entry.mode = options_.chmod ? options_.chmod->Apply(0644, false) : 0644;
  node.entry.size = static_cast<int64_t>(content.data.size());
  node.content = copy_internal::InlineContent{
      std::make_shared<const std::string>(content.data)};
  Put(key, std::move(node));
  return base::OkStatus();
}

}  // namespace strata::build
