// Helpers for the layer tests: raw tars for hostile inputs, tree listings
// for comparisons, shell commands for cross-checks with real tools.
#ifndef STRATA_TESTS_UNIT_LAYER_LAYER_TEST_UTIL_H_
#define STRATA_TESTS_UNIT_LAYER_LAYER_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "layer/apply.h"
#include "layer/writer.h"

namespace strata::layer::testutil {

/// One entry of a hand-made tar (names are written verbatim, so tests can
/// build layers LayerWriter refuses to write).
struct RawEntry {
  char type = 'f';  // f file, d dir, l symlink, h hardlink, c char, p fifo
  std::string name;
  std::string data;    // file content
  std::string target;  // symlink or hardlink target
  int mode = 0644;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

/// A PAX tar holding `entries` in order.
std::string MakeRawTar(const std::vector<RawEntry>& entries);

/// Applies an in-memory blob.
base::Result<ApplyStats> ApplyBlob(const std::string& blob,
                                   const std::string& root,
                                   const ApplyOptions& options = {});

/// Runs LayerWriter over `add` and returns the blob.
template <typename AddFn>
std::pair<std::string, LayerInfo> WriteLayer(const WriterOptions& options,
                                             AddFn add);

/// One line per path below `root` (sorted walk): type, mode, uid:gid,
/// size, mtime seconds, link target or device, content hash, user.* and
/// security.capability xattrs. The root itself is not listed.
std::string ListTree(const std::string& root, bool with_mtime = true);

/// What libarchive reads back from an uncompressed tar: one line per
/// entry, "<name>|<type>|<mode octal>|<uid>:<gid>|<size>|<mtime>.<nsec>|
/// <link>|<xattr names,...>".
std::vector<std::string> ListTar(const std::string& tar);

/// Runs `command` through /bin/sh, returning its stdout; fails the test on
/// a non-zero exit.
std::string RunCmd(const std::string& command);

/// Writes `data` to `path` (creating parents) and sets its mode.
void PutFile(const std::string& path, const std::string& data,
             mode_t mode = 0644);

/// Reads a whole file ("" if missing).
std::string GetFile(const std::string& path);

/// The value of xattr `name` on `path` (not following), or "<none>".
std::string GetXattrOf(const std::string& path, const std::string& name);

/// Sets an mtime (seconds + nanoseconds) without following symlinks.
void SetMtime(const std::string& path, int64_t sec, int64_t nsec = 0);

/// True if the process may mknod devices and set trusted.* xattrs.
bool Privileged();

// ---- template definitions ----

template <typename AddFn>
std::pair<std::string, LayerInfo> WriteLayer(const WriterOptions& options,
                                             AddFn add) {
  base::StringSink sink;
  auto writer = LayerWriter::Create(&sink, options);
  if (!writer) {
    ADD_FAILURE() << writer.error().ToString();
    return {"", LayerInfo{}};
  }
  add(**writer);
  auto info = (*writer)->Finish();
  if (!info) {
    ADD_FAILURE() << info.error().ToString();
    return {"", LayerInfo{}};
  }
  return {sink.str(), *info};
}

}  // namespace strata::layer::testutil

#endif  // STRATA_TESTS_UNIT_LAYER_LAYER_TEST_UTIL_H_
