#include "layer/entry.h"

#include <vector>

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kRegular:
      return "file";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kCharDevice:
      return "char";
    case EntryType::kBlockDevice:
      return "block";
    case EntryType::kFifo:
      return "fifo";
  }
  return "unknown";
}

Result<std::string> ValidateEntryPath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument, "invalid layer path \"", path,
                     "\": ", why);
  };
  std::string_view p = path;
  if (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return bad("empty");
  if (p.find('\0') != std::string_view::npos) return bad("contains NUL");
  if (p.front() == '/') return bad("absolute");
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(start, end - start);
    if (part.empty()) return bad("empty component");
    if (part == "." || part == "..") return bad("'.' or '..' component");
    start = end + 1;
  }
  return std::string(p);
}

Result<std::string> CleanLayerPath(std::string_view name) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      // containerd clamps ".." at the root; a layer that tries to climb out
      // is hostile or broken, so strata refuses it instead.
      if (parts.empty()) {
        return MakeError(Code::kInvalidArgument, "layer entry \"", name,
                         "\" escapes the root");
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  return out;
}

std::pair<std::string_view, std::string_view> SplitParent(
    std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace strata::layer
