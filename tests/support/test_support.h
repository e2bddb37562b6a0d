// Shared test helpers (after ninja's test.h): temp dirs and testdata paths.
#ifndef STRATA_TESTS_SUPPORT_TEST_SUPPORT_H_
#define STRATA_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <string>
#include <vector>

namespace strata::testing {

/// Absolute path of a file or folder under the project's testdata/.
std::string TestdataPath(const std::string& relative);

/// Names of the sub-directories of `dir`, sorted.
std::vector<std::string> ListSubdirs(const std::string& dir);

/// Reads a file the test needs; fails the process loudly if it is missing.
std::string ReadTestFile(const std::string& path);

/// Turns any string into a valid gtest parameter name ([A-Za-z0-9_]).
std::string SanitizeTestName(const std::string& name);

/// A fresh directory under $TMPDIR, removed with its contents on scope exit.
class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  /// Writes `content` to path()/relative, creating parent directories.
  void WriteFile(const std::string& relative, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace strata::testing

#endif  // STRATA_TESTS_SUPPORT_TEST_SUPPORT_H_
