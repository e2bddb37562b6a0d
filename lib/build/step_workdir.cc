#include "build/steps.h"
#include "build/user_db.h"

namespace strata::build {

using base::Result;

namespace {

layer::Entry DirEntry(const std::string& path, const layer::ViewStat& st) {
  layer::Entry e;
  e.type = layer::EntryType::kDirectory;
  e.path = path;
  e.mode = st.mode;
  e.uid = st.uid;
  e.gid = st.gid;
  e.mtime = st.mtime;
  return e;
}

// The real path `path` names inside the view, symlinks followed, where the
// trailing components may not exist yet (they are about to be created).
Result<std::string> ResolveForCreate(const layer::LayeredView& view,
                                     const std::string& path) {
  Result<std::string> real = view.Resolve(path, true);
  if (real || real.error().code() != base::Code::kNotFound) return real;
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || path == "/") return real;
  std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  STRATA_ASSIGN_OR_RETURN(std::string parent_real,
                          ResolveForCreate(view, parent));
  return (parent_real == "/" ? "" : parent_real) + path.substr(slash);
}

}  // namespace

Result<StepOutcome> ExecWorkdir(const StepContext& ctx, const StepInputs& in,
                                const StageState& state, const StageFs& fs,
                                base::Digest* key) {
  const std::string& wd = state.config.config.working_dir;
  const std::string& user = state.config.config.user;
  *key = cache::KeyBuilder()
             .Add("parent", fs.key)
             .Add("op", "WORKDIR")
             .Add("path", wd)
             .Add("user", user)
             .Add("layer", ctx.layer_format_key)
             .Finish();
  return CachedStep(ctx, *key, in.no_cache, [&]() -> Result<std::optional<Layer>> {
    STRATA_ASSIGN_OR_RETURN(layer::LayeredView view, ViewOf(ctx, fs.layers));
    // Walk the path as the kernel would, following symlinks inside the
    // image (WORKDIR /var/run may lead to /run), to find the real
    // directories that exist and the first one that does not.
    STRATA_ASSIGN_OR_RETURN(std::string real, ResolveForCreate(view, wd));
    std::vector<std::string> parts;
    for (const std::string& p : base::Split(real, '/')) {
      if (!p.empty()) parts.push_back(p);
    }
    std::vector<std::pair<std::string, std::optional<layer::ViewStat>>> chain;
    std::string path;
    bool missing = false;
    for (const std::string& p : parts) {
      path += "/" + p;
      std::optional<layer::ViewStat> st;
      if (!missing) {
        STRATA_ASSIGN_OR_RETURN(st, view.Lstat(path));
        missing = !st.has_value();
        if (st && st->type != layer::EntryType::kDirectory) {
          return base::MakeError(base::Code::kInvalidArgument, "WORKDIR ",
                                 wd, ": ", path, " is not a directory");
        }
      }
      chain.emplace_back(path.substr(1), st);
    }
    if (!missing) return std::optional<Layer>();
    Owner owner;
    if (!user.empty()) {
      STRATA_ASSIGN_OR_RETURN(std::optional<std::string> passwd,
                              ReadViewFile(view, "/etc/passwd"));
      STRATA_ASSIGN_OR_RETURN(std::optional<std::string> group,
                              ReadViewFile(view, "/etc/group"));
      STRATA_ASSIGN_OR_RETURN(owner, ResolveChown(user, passwd, group));
    }
    int64_t mtime = in.source_date_epoch.value_or(0);
    return WriteNewLayer(ctx, [&](layer::LayerWriter& w) -> base::Status {
      for (const auto& [p, st] : chain) {
        if (st) {
          STRATA_TRY(w.Add(DirEntry(p, *st)));
          continue;
        }
        layer::Entry e;
        e.type = layer::EntryType::kDirectory;
        e.path = p;
        e.mode = 0755;
        e.uid = owner.uid;
        e.gid = owner.gid;
        e.mtime = {mtime, 0};
        STRATA_TRY(w.Add(e));
      }
      return base::OkStatus();
    });
  });
}

}  // namespace strata::build
