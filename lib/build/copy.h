// The COPY/ADD engine: what a step selects, its cache digest, and its layer.
//
// Semantics are BuildKit's (dockerfile2llb dispatchCopy -> llb.Copy with
// FollowSymlinks, CopyDirContentsOnly, AllowWildcard, AllowEmptyWildcard,
// CreateDestPath, AttemptUnpack for ADD; then the file backend's docopy and
// tonistiigi/fsutil's copy.Copy), applied to a merged view instead of a
// mounted snapshot:
//   - dest: relative to the stage's WORKDIR; a trailing "/" or "/." makes it
//     a directory; symlinks in it are resolved inside the stage filesystem.
//     Missing parents are created (0755, --chown or 0:0). A file source
//     lands inside dest when dest is (by then) a directory, else is named
//     dest; a directory source copies its contents into dest.
//   - sources: paths inside the source filesystem ("../x" stays inside); the
//     path itself is followed through symlinks (inside the source, never
//     out), symlinks below it are copied as symlinks. Wildcards use Go's
//     filepath.Match on the part from the first wildcard component on; a
//     wildcard may match nothing (nothing is copied), but its directory
//     part must exist. Matched directories contribute their contents.
//     --exclude patterns (patternmatcher) apply relative to each match;
//     --parents keeps the source path below the "/./" pivot (or the root).
//   - metadata: --chown for every copied entry and created parent, else
//     context files are 0:0 and stage/image files keep their owner; modes
//     are kept (--chmod applied to copied files and directories); mtimes are
//     kept (the LayerWriter clamps them to SOURCE_DATE_EPOCH); hard links
//     within one match stay hard links; xattrs are kept, except
//     security.selinux from the context.
//   - ADD: a local tar (plain, gzip, bzip2, xz, zstd, recognised by content)
//     is extracted into dest unless --unpack=false; an http(s) URL is
//     downloaded (mode 0600, mtime from Last-Modified) and extracted only
//     with --unpack=true; --checksum is verified before use; git sources are
//     refused as unsupported. Heredocs become 0644 files named after them.
//   - --link (without --chmod, as BuildKit): dest is not consulted; only a
//     trailing "/" makes it a directory, and created parents are written.
//
// Deliberate differences from BuildKit (all for reproducible layers or
// clearer failures):
//   - directories this step creates (dest parents, archive parents) and
//     heredoc/URL files without Last-Modified get mtime SOURCE_DATE_EPOCH,
//     else 0, not the time of the build;
//   - an existing directory of the stage written as a parent of a copied
//     path keeps its mtime (BuildKit's differ would record "now");
//   - several sources (or wildcard matches) with at least one non-directory,
//     onto a dest that neither ends in "/" nor is an existing directory, fail
//     with the classic builder's error ("When using COPY with more than one
//     source file, the destination must be a directory and end with a /")
//     where BuildKit silently overwrites one file with the next
//     (moby/buildkit#1853);
//   - a missing source fails with `"/nope": not found in build context (or
//     excluded by .dockerignore)` (BuildKit: `failed to compute cache key:
//     ... "/nope": not found`);
//   - xattrs other than security.capability are kept in the layer (BuildKit's
//     differ writes only security.capability);
//   - a --parents source whose pattern is empty ("." or "./") copies
//     everything below its pivot instead of nothing;
//   - sockets are skipped (the layer format has no sockets).
//
// Layer layout: every written path comes with all its ancestor directories
// (existing ones with the stage's metadata, created ones as above), in
// LayerWriter order, so the layer applies onto any base. Output is a pure
// function of the inputs: the same sources, options and stage give the same
// bytes (with the same WriterOptions).
#ifndef STRATA_BUILD_COPY_H_
#define STRATA_BUILD_COPY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "build/file_mode.h"
#include "build/user_db.h"
#include "dockerfile/instructions.h"
#include "layer/view.h"
#include "layer/writer.h"

namespace strata::build {

namespace copy_internal {
class SourceFs;
}  // namespace copy_internal

/// Where a step reads its local sources from. Cheap to copy; copies share
/// the underlying state (the context index and a content-hash cache), so
/// one CopySource should serve every step of a build. Thread-safe.
class CopySource {
 public:
  /// The build context `dir` as BuildKit's client sends it: walked with
  /// context::WalkContext and `ignore_patterns` (.dockerignore), so excluded
  /// files do not exist; uid/gid are 0. The walk happens once, on first use
  /// (Plan), and keeps the metadata of every entry in memory.
  /// With `stat_cache_path`, file digests are remembered there by stat
  /// (stat_cache.h), so an unchanged file is not read by the next build.
  static CopySource Context(std::string dir,
                            std::vector<std::string> ignore_patterns,
                            std::string stat_cache_path = "");

  /// A stage's or image's filesystem (`COPY --from`). `view` is not owned
  /// and must outlive every CopyOperation planned from it. `name` says what
  /// it is in messages ("stage builder", "image alpine:3.20").
  static CopySource View(const layer::LayeredView* view, std::string name);

  /// Internal.
  const std::shared_ptr<copy_internal::SourceFs>& fs() const { return fs_; }

 private:
  explicit CopySource(std::shared_ptr<copy_internal::SourceFs> fs)
      : fs_(std::move(fs)) {}
  std::shared_ptr<copy_internal::SourceFs> fs_;
};

/// The flags of one COPY/ADD step, resolved by the caller.
struct CopyOptions {
  bool is_add = false;
  /// The stage's WORKDIR, for a relative dest.
  std::string workdir = "/";
  /// Resolved --chown. Unset: context files become 0:0, view files keep
  /// their owner, created directories are 0:0.
  std::optional<Owner> chown;
  /// Parsed --chmod, applied to copied files and directories (not to
  /// created parents nor to what an archive holds).
  std::optional<ModeSpec> chmod;
  /// --exclude patterns.
  std::vector<std::string> excludes;
  /// --parents.
  bool parents = false;
  /// --link: plan without reading `dest` (ignored with --chmod, as BuildKit
  /// ignores it then).
  bool link = false;
  /// SOURCE_DATE_EPOCH: the mtime of created directories and files (else 0).
  std::optional<int64_t> source_date_epoch;
  /// ADD --checksum ("sha256:<hex>"), for a single http(s) source.
  std::string checksum;
  /// ADD --unpack: unset means BuildKit's default (local archives yes, URLs
  /// no).
  std::optional<bool> unpack;
  /// Where downloads and extracted archive members are kept while the
  /// operation lives; empty means $TMPDIR, else /tmp.
  std::string temp_dir;
};

/// One planned COPY/ADD step. Plan it, ask its digest, and on a cache miss
/// write its layer. Movable, not copyable; not thread-safe.
class CopyOperation {
 public:
  /// Resolves sources and destination of `paths` (already expanded) without
  /// writing anything: walks the selected files' metadata, checks conflicts
  /// with `dest` (the stage's filesystem before this step; not owned, must
  /// outlive the operation; not read with --link). Local archives are
  /// recognised here; URLs are not fetched. Errors name the offending path
  /// ("\"/nope\": not found in build context"), BuildKit's wording where it
  /// has one.
  static base::Result<CopyOperation> Plan(
      const CopySource& source, const dockerfile::SourcesAndDest& paths,
      const CopyOptions& options, const layer::LayeredView& dest);

  CopyOperation(CopyOperation&&) noexcept;
  CopyOperation& operator=(CopyOperation&&) noexcept;
  ~CopyOperation();  // removes the operation's temporary files

  /// sha256 over everything the layer depends on and nothing else, as
  /// described in copy_digest.cc: per written path its destination, type,
  /// mode, owner, link target, xattrs and content sha256 (streamed), never
  /// mtimes; for a local archive its bytes' sha256; for a URL the --checksum
  /// if given, else the downloaded content's (downloaded once; Write reuses
  /// the file). Versioned ("strata.copy.v1").
  base::Result<base::Digest> ContentDigest();

  /// Takes the URL downloads `keyed` already made (it was planned from the
  /// same sources, e.g. on another tree for the cache key), so Write does
  /// not fetch them again. `keyed` must outlive this operation's Write.
  void ReuseDownloads(const CopyOperation& keyed);

  /// Writes the step's layer entries into `writer` (not finished: the caller
  /// calls Finish). Streams file contents; downloads and extracts what
  /// ContentDigest did not need. Call once.
  base::Status Write(layer::LayerWriter& writer);

  /// Internal.
  class Impl;

 private:
  explicit CopyOperation(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_COPY_H_
