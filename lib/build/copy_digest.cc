// The content digest of a COPY/ADD step (its cache key's input part).
//
// Format: sha256 over a sequence of fields, each an 8-byte little-endian
// length followed by its bytes. The first field is "strata.copy.v1"; then,
// for every change the plan made to the result, in the order made:
//   "node", path, type name, mode (octal), uid, gid, link target,
//       "major,minor", xattr count, then name and value per xattr,
//       content ("sha256:..." for regular files, else ""), and the path of
//       the first file of its hard-link group ("" if none or itself);
//   "archive", dest dir, sha256 of the archive's bytes, owner override
//       ("uid:gid" with --chown, else "");
//   "url", file path, dest dir, mode, uid, gid, unpack ("1"/"0"), and the
//       --checksum, else the downloaded body's sha256.
// Mtimes are never included: touching a file does not invalidate the cache
// (its layer bytes may differ; the cached layer is then reused). Nothing
// about the sources' host paths is included either.
#include <cstring>

#include "base/str.h"
#include "build/copy_internal.h"

namespace strata::build {

using copy_internal::Record;

namespace {

class FieldHasher {
 public:
  void Add(std::string_view field) {
    uint8_t len[8];
    uint64_t n = field.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    hash_.Update(std::span<const uint8_t>(len, 8));
    hash_.Update(field);
  }
  void Add(int64_t n) { Add(std::to_string(n)); }
  base::Digest Finish() { return hash_.Finish(); }

 private:
  base::Sha256 hash_;
};

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%o", mode);
  return buf;
}

}  // namespace

base::Result<base::Digest> CopyOperation::Impl::ContentSha(const Node& node) {
  if (const auto* fs = std::get_if<copy_internal::FsContent>(&node.content)) {
    return fs->fs->ContentDigest(fs->abs, fs->node);
  }
  if (const auto* in = std::get_if<copy_internal::InlineContent>(&node.content)) {
    return base::Digest::Of(*in->data);
  }
  if (const auto* host = std::get_if<copy_internal::HostContent>(&node.content)) {
    if (host->digest) return *host->digest;
    STRATA_ASSIGN_OR_RETURN(base::FdSource source,
                            base::FdSource::Open(host->path));
    base::DigestingSink sink(nullptr);
    STRATA_TRY(base::CopyStream(source, sink));
    return sink.Finish();
  }
  return base::Digest::Of("");
}

base::Result<base::Digest> CopyOperation::Impl::Digest() {
  FieldHasher h;
  h.Add("strata.copy.v1");
  for (const Record& r : records_) {
    switch (r.kind) {
      case Record::Kind::kNode: {
        const layer::Entry& e = r.node.entry;
        h.Add("node");
        h.Add(r.key);
        h.Add(layer::EntryTypeName(e.type));
        h.Add(Octal(e.mode));
        h.Add(e.uid);
        h.Add(e.gid);
        h.Add(e.link_target);
        h.Add(base::StrCat(e.dev_major, ",", e.dev_minor));
        h.Add(static_cast<int64_t>(e.xattrs.size()));
        for (const layer::Xattr& x : e.xattrs) {
          h.Add(x.name);
          h.Add(x.value);
        }
        std::string content;
        if (e.type == layer::EntryType::kRegular) {
          STRATA_ASSIGN_OR_RETURN(base::Digest sha, ContentSha(r.node));
          content = sha.ToString();
        }
        h.Add(content);
        h.Add(r.link_first);
        break;
      }
      case Record::Kind::kArchive: {
        const copy_internal::Deferred& d = deferred_[r.deferred];
        STRATA_ASSIGN_OR_RETURN(base::Digest sha,
                                d.fs->ContentDigest(d.abs, d.node));
        h.Add("archive");
        h.Add(r.key);
        h.Add(sha.ToString());
        h.Add(options_.chown ? base::StrCat(options_.chown->uid, ":",
                                            options_.chown->gid)
                             : "");
        break;
      }
      case Record::Kind::kUrl: {
        copy_internal::Deferred& d = deferred_[r.deferred];
        std::string content;
        if (d.checksum) {
          content = d.checksum->ToString();
        } else {
          STRATA_TRY(Fetch(d));
          content = d.fetched->digest.ToString();
        }
        h.Add("url");
        h.Add(r.key);
        h.Add(d.dir_key);
        h.Add(Octal(options_.chmod ? options_.chmod->Apply(0600, false)
                                   : 0600));
        h.Add(options_.chown ? int64_t{options_.chown->uid} : 0);
        h.Add(options_.chown ? int64_t{options_.chown->gid} : 0);
        h.Add(d.unpack ? "1" : "0");
        h.Add(content);
        break;
      }
    }
  }
  return h.Finish();
}

}  // namespace strata::build
