#include "layer/view.h"

#include <deque>

#include "layer/view_internal.h"

namespace strata::layer {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using internal::ViewLayers;
using internal::ViewNode;

namespace {

constexpr int kMaxSymlinks = 255;

// Where a path led.
struct Resolution {
  std::string rel;               // canonical, "" for the root
  std::optional<ViewNode> node;  // the entry, unless missing
  // A component before the last is missing (or a symlink's target is
  // empty): the path names no place at all.
  bool unreachable = false;

  static Resolution Unreachable() { return {"", std::nullopt, true}; }
  static Resolution Missing(std::string rel) {
    return {std::move(rel), std::nullopt, false};
  }
  static Resolution Found(ViewNode node) {
    std::string rel = node.rel;
    return {std::move(rel), std::move(node), false};
  }
};

std::string Absolute(std::string_view rel) { return base::StrCat("/", rel); }

base::Error NotFound(std::string_view path) {
  return MakeError(Code::kNotFound, Absolute(path),
                   ": no such file or directory");
}

// `path` without its leading slashes, for messages (Absolute adds one).
std::string_view Shown(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path == "." ? std::string_view() : path;
}

// Splits `path` into components and puts them in front of `todo`. A
// trailing '/' becomes a "." component, so that (as in POSIX) a final
// symlink is followed and the result must be a directory.
void PushFront(std::string_view path, std::deque<std::string>* todo) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (!parts.empty() && path.back() == '/') parts.emplace_back(".");
  todo->insert(todo->begin(), parts.begin(), parts.end());
}

// Resolves `path` component by component, each looked up across the layers
// of its parent, splicing symlink targets in (chroot-like: ".." stops at
// the root, absolute targets restart there).
Result<Resolution> ResolvePath(const ViewLayers& layers, std::string_view path,
                               bool follow_final) {
  if (path.find('\0') != std::string_view::npos) {
    return MakeError(Code::kInvalidArgument, "path contains a NUL byte");
  }
  std::vector<ViewNode> dirs;  // the root, then each directory entered
  STRATA_ASSIGN_OR_RETURN(ViewNode root, layers.Root());
  dirs.push_back(std::move(root));
  std::deque<std::string> todo;
  PushFront(path, &todo);
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (dirs.size() > 1) dirs.pop_back();
      continue;
    }
    bool last = todo.empty();
    const ViewNode& dir = dirs.back();
    STRATA_ASSIGN_OR_RETURN(std::optional<ViewNode> child,
                            layers.Lookup(dir, part));
    if (!child) {
      if (!last) return Resolution::Unreachable();
      return Resolution::Missing(internal::JoinRel(dir.rel, part));
    }
    if (S_ISLNK(child->st.st_mode) && (!last || follow_final)) {
      if (++links > kMaxSymlinks) {
        return MakeError(Code::kIo, Absolute(Shown(path)),
                         ": too many levels of symbolic links");
      }
      STRATA_ASSIGN_OR_RETURN(ViewStat link, layers.Stat(*child));
      // Linux refuses to follow an empty target (ENOENT).
      if (link.link_target.empty()) return Resolution::Unreachable();
      if (link.link_target.front() == '/') dirs.resize(1);
      PushFront(link.link_target, &todo);
      continue;
    }
    if (last) return Resolution::Found(std::move(*child));
    if (!S_ISDIR(child->st.st_mode)) {
      return MakeError(Code::kIo, Absolute(Shown(path)), ": ",
                       Absolute(child->rel), " is not a directory");
    }
    dirs.push_back(std::move(*child));
  }
  // The path ended at a directory already entered ("/", "a/..", "a/.").
  return Resolution::Found(std::move(dirs.back()));
}

Status WalkNode(const ViewLayers& layers, const ViewNode& node,
                const LayeredView::WalkFn& fn) {
  STRATA_ASSIGN_OR_RETURN(ViewStat st, layers.Stat(node));
  STRATA_TRY(fn(Absolute(node.rel), st));
  if (!S_ISDIR(node.st.st_mode)) return base::OkStatus();
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, layers.Names(node));
  for (const std::string& name : names) {
    STRATA_ASSIGN_OR_RETURN(std::optional<ViewNode> child,
                            layers.Lookup(node, name));
    if (child) STRATA_TRY(WalkNode(layers, *child, fn));
  }
  return base::OkStatus();
}

}  // namespace

LayeredView::LayeredView(std::vector<std::string> layer_dirs)
    : layer_dirs_(std::move(layer_dirs)) {}

Result<std::optional<ViewStat>> LayeredView::Lstat(
    std::string_view path) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r, ResolvePath(layers, path, false));
  if (!r.node) return std::optional<ViewStat>();
  STRATA_ASSIGN_OR_RETURN(ViewStat st, layers.Stat(*r.node));
  return std::optional<ViewStat>(std::move(st));
}

Result<std::optional<ViewStat>> LayeredView::Stat(std::string_view path) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r, ResolvePath(layers, path, true));
  if (!r.node) return std::optional<ViewStat>();
  STRATA_ASSIGN_OR_RETURN(ViewStat st, layers.Stat(*r.node));
  return std::optional<ViewStat>(std::move(st));
}

Result<std::string> LayeredView::Resolve(std::string_view path,
                                         bool follow_final) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r,
                          ResolvePath(layers, path, follow_final));
  if (r.unreachable) return NotFound(Shown(path));
  return Absolute(r.rel);
}

Result<std::vector<std::string>> LayeredView::ReadDir(
    std::string_view dir) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r, ResolvePath(layers, dir, true));
  if (!r.node) return NotFound(Shown(dir));
  if (!S_ISDIR(r.node->st.st_mode)) {
    return MakeError(Code::kIo, Absolute(Shown(dir)), ": not a directory");
  }
  return layers.Names(*r.node);
}

Result<std::unique_ptr<base::Source>> LayeredView::Open(
    std::string_view path) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r, ResolvePath(layers, path, true));
  if (!r.node) return NotFound(Shown(path));
  if (!S_ISREG(r.node->st.st_mode)) {
    return MakeError(Code::kInvalidArgument, Absolute(Shown(path)),
                     ": not a regular file");
  }
  return layers.OpenFile(*r.node);
}

Result<std::vector<Xattr>> LayeredView::Xattrs(std::string_view path) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r, ResolvePath(layers, path, false));
  if (!r.node) return NotFound(Shown(path));
  return layers.Xattrs(*r.node);
}

Status LayeredView::Walk(std::string_view root, const WalkFn& fn) const {
  ViewLayers layers(layer_dirs_);
  STRATA_ASSIGN_OR_RETURN(Resolution r, ResolvePath(layers, root, false));
  if (!r.node) return NotFound(Shown(root));
  return WalkNode(layers, *r.node, fn);
}

}  // namespace strata::layer
