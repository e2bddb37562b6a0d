// Helpers shared by the commands that work on the store (build, images,
// rmi, prune, du, save): the --root flag, opening the store, naming local
// images, and docker's ways of printing and parsing sizes and durations.
#ifndef STRATA_CMD_STRATA_STORE_FLAGS_H_
#define STRATA_CMD_STRATA_STORE_FLAGS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/go_units.h"
#include "base/result.h"
#include "flag_set.h"
#include "image/local_images.h"
#include "store/store.h"

namespace strata::cli {

/// Declares `--root DIR` (default: store::DefaultRoot()) bound to `root`.
void AddRootFlag(FlagSet& flags, std::string* root);

/// Opens the store at `root`, or at store::DefaultRoot() if it is empty.
base::Result<std::unique_ptr<store::Store>> OpenStore(const std::string& root);

/// Prints "strata: <error>" as one line on stderr; returns kExitFailure.
int PrintFailure(const base::Error& error);

/// A tagged image with what `strata images` shows about it.
struct ImageInfo {
  image::LocalImage entry;
  /// The image ID: the config digest of a single-platform image (what
  /// --iidfile writes, as docker does), else the root (index) digest.
  base::Digest id;
  std::string created;  // the config's, else when it was tagged
  int64_t size = 0;     // bytes of the blobs it reaches that are present
};

/// Every tagged image, sorted by name. Blobs that cannot be read leave
/// their fields as far as known (a damaged image still lists).
base::Result<std::vector<ImageInfo>> ListImageInfos(const store::Store& store);

/// The images `name` means, as docker resolves an image argument: a
/// reference naming a tag, else a (possibly "sha256:"-prefixed) prefix of
/// at least 4 hex digits of image IDs or root digests. Empty if none.
std::vector<ImageInfo> FindImages(const std::vector<ImageInfo>& all,
                                  const std::string& name);

/// `ref` as `docker images` shows it: repository and tag columns.
std::string FamiliarRepository(const image::Reference& ref);

using base::HumanDuration;
using base::HumanSize;

/// Parses an RFC 3339 time ("2024-01-02T03:04:05.5Z", "...+02:00") to Unix
/// seconds; nullopt if it is not one.
std::optional<int64_t> ParseRfc3339(std::string_view text);

/// go-units' RAMInBytes, which docker's size flags use: a number with an
/// optional binary unit ("10GB" = 10 GiB; b, k, m, g, t, p, with optional
/// "i" and "b"; case-insensitive).
base::Result<int64_t> ParseByteSize(std::string_view text);

/// Go's time.ParseDuration ("24h", "1h30m", "90s", "1.5h"; units ns, us,
/// ms, s, m, h), truncated to whole seconds. Negative durations are
/// refused.
base::Result<std::chrono::seconds> ParseDuration(std::string_view text);

/// Formats rows like docker's tables (text/tabwriter: minimum cell width
/// 10, padding 3; the last column unpadded).
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace strata::cli

#endif  // STRATA_CMD_STRATA_STORE_FLAGS_H_
