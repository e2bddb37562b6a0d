// Helpers for the COPY/ADD engine tests: a build context and a one-layer
// stage on disk, running a step into an uncompressed layer, listing what
// the layer holds, and a loopback HTTP server for ADD URLs.
#ifndef STRATA_TESTS_UNIT_BUILD_COPY_TEST_UTIL_H_
#define STRATA_TESTS_UNIT_BUILD_COPY_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "build/copy.h"
#include "support/test_support.h"

namespace strata::build::testutil {

/// The layer a step wrote, and its digest.
struct StepResult {
  std::string blob;  // uncompressed tar
  base::Digest content_digest;
  int64_t entries = 0;
};

inline constexpr int64_t kEpoch = 1000000;

/// The full text of `r`'s error ("<no error>" when it holds a value).
template <typename T>
std::string ErrorOf(const base::Result<T>& r) {
  return r ? "<no error>" : r.error().ToString();
}

/// "uid:gid" of files this process creates without chown: "0:0" as root.
std::string HostOwner();

/// A build context dir and a stage (one overlay-mode layer dir) to copy
/// from or into, both 0755 (the umask is set to 022 for reproducible
/// modes of created parents).
class CopyFixture : public ::testing::Test {
 protected:
  CopyFixture();

  // The context ("ctx/<rel>").
  void Ctx(const std::string& rel, const std::string& data = "",
           mode_t mode = 0644);
  void CtxDir(const std::string& rel, mode_t mode = 0755);
  void CtxLink(const std::string& rel, const std::string& target);
  std::string CtxPath(const std::string& rel) const;

  // The stage filesystem ("stage/<rel>"), owned by uid:gid (only when
  // running as root, or when a test asks for non-zero ids: such tests skip
  // without root).
  void Stage(const std::string& rel, const std::string& data = "",
             mode_t mode = 0644, uid_t uid = 0, gid_t gid = 0);
  void StageDir(const std::string& rel, mode_t mode = 0755, uid_t uid = 0,
                gid_t gid = 0);
  void StageLink(const std::string& rel, const std::string& target);

  /// `COPY <sources...> <dest>` (ADD when options.is_add) from the context
  /// (or `from`) into the stage, with the LayerWriter clamping to kEpoch.
  base::Result<StepResult> Run(
      const std::vector<std::string>& sources, const std::string& dest,
      CopyOptions options = {}, const CopySource* from = nullptr,
      const std::vector<dockerfile::SourceContent>& heredocs = {});
  /// Run's first part: only plans the step (defaults filled in as Run).
  base::Result<CopyOperation> PlanOp(
      const std::vector<std::string>& sources, const std::string& dest,
      CopyOptions options = {}, const CopySource* from = nullptr,
      const std::vector<dockerfile::SourceContent>& heredocs = {});
  /// Run's second part: the digest, then the layer of a planned step.
  static base::Result<StepResult> Finish(CopyOperation& op);

  /// The layer's tar entries, one line each, mtimes shown as seconds:
  /// "name|type|mode|uid:gid|size|mtime|link|xattrs".
  static std::vector<std::string> Entries(const std::string& blob);
  /// Applies the layer in merge mode into a fresh dir and lists it
  /// (layer_test_util's ListTree, without mtimes).
  std::string Applied(const std::string& blob);
  /// Content of `rel` after applying the layer.
  std::string AppliedFile(const std::string& blob, const std::string& rel);
  /// Content of the regular-file entry `name` of the layer, or "<none>".
  static std::string FileIn(const std::string& blob, const std::string& name);

  const layer::LayeredView& stage() const { return *stage_view_; }
  CopySource& context() { return context_; }
  /// Sets the context's .dockerignore patterns (a new CopySource).
  void SetIgnore(std::vector<std::string> patterns);
  /// A new CopySource over the context (without .dockerignore patterns)
  /// that sees later changes: a CopySource indexes the context and caches
  /// content hashes once.
  void Rescan() { SetIgnore({}); }

  strata::testing::ScopedTempDir tmp_;
  std::string ctx_dir_;
  std::string stage_dir_;
  std::unique_ptr<layer::LayeredView> stage_view_;
  CopySource context_;
};

/// A tiny HTTP/1.1 server on 127.0.0.1 (one request per connection),
/// serving fixed responses until destroyed. Sets no_proxy for 127.0.0.1 so
/// a proxy in the environment is not asked.
class TestHttpServer {
 public:
  struct Response {
    int status = 200;
    std::string body;
    std::vector<std::string> headers;  // "Name: value"
  };
  explicit TestHttpServer(std::map<std::string, Response> routes);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::string Url(const std::string& path) const;
  int requests() const { return requests_; }

 private:
  void Serve(std::stop_token stop);
  void Handle(int fd);

  std::map<std::string, Response> routes_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::jthread thread_;
};

/// `data` compressed with "gzip" or "zstd" (the layer module), "bzip2" or
/// "xz" (the system binaries).
std::string Compress(const std::string& data, const std::string& how);

}  // namespace strata::build::testutil

#endif  // STRATA_TESTS_UNIT_BUILD_COPY_TEST_UTIL_H_
