#include "build/steps.h"
#include "build/user_db.h"

namespace strata::build {

using base::Result;

namespace {

// What the key must say about a COPY/ADD besides the selected content.
std::string CopyKeyText(const dockerfile::Command& command,
                        const CopyOptions& options) {
  const auto* copy = std::get_if<dockerfile::CopyCommand>(&command);
  const auto* add = std::get_if<dockerfile::AddCommand>(&command);
  const dockerfile::SourcesAndDest& sd =
      copy ? static_cast<const dockerfile::SourcesAndDest&>(*copy) : *add;
  std::string text = copy ? "COPY" : "ADD";
  for (const std::string& s : sd.source_paths) text += "\nsrc " + s;
  for (const auto& c : sd.source_contents) text += "\nheredoc " + c.path;
  text += "\ndest " + sd.dest_path;
  text += "\nworkdir " + options.workdir;
  if (options.chown) {
    text += base::StrCat("\nchown ", options.chown->uid, ":",
                         options.chown->gid);
  }
  if (options.chmod) text += "\nchmod " + options.chmod->text();
  for (const std::string& e : options.excludes) text += "\nexclude " + e;
  if (options.parents) text += "\nparents";
  if (options.link) text += "\nlink";
  if (!options.checksum.empty()) text += "\nchecksum " + options.checksum;
  if (options.unpack) text += *options.unpack ? "\nunpack" : "\nno-unpack";
  return text;
}

}  // namespace

Result<StepOutcome> ExecCopy(const StepContext& ctx, const StepInputs& in,
                             const dockerfile::Command& command,
                             const StageState& state, const StageFs& fs,
                             base::Digest* key) {
  const auto* copy = std::get_if<dockerfile::CopyCommand>(&command);
  const auto* add = std::get_if<dockerfile::AddCommand>(&command);
  const dockerfile::SourcesAndDest& sd =
      copy ? static_cast<const dockerfile::SourcesAndDest&>(*copy) : *add;

  // The source: another stage or image, or the build context.
  std::optional<layer::LayeredView> from_view;
  std::optional<CopySource> source;
  if (copy && !copy->from.empty()) {
    STRATA_ASSIGN_OR_RETURN(std::vector<Layer> layers,
                            in.source_layers(copy->from));
    STRATA_ASSIGN_OR_RETURN(from_view, ViewOf(ctx, layers));
    source = CopySource::View(&*from_view, "stage " + copy->from);
  } else if (in.context) {
    source = *in.context;
  } else {
    return base::MakeError(base::Code::kInvalidArgument,
                           "no build context to copy from (the context "
                           "was '-')");
  }
  const std::string& chown = copy ? copy->chown : add->chown;
  const bool link = copy ? copy->link : add->link;
  // The stage below is opened only to look up a user name, and, without
  // --link, when the step runs: a cache hit never unpacks (or downloads)
  // its layers. The key is planned on an empty tree; the parent's key
  // already pins what is below.
  layer::LayeredView empty(std::vector<std::string>{});
  std::optional<layer::LayeredView> below;
  if (!chown.empty() && ChownNeedsLookup(chown)) {
    STRATA_ASSIGN_OR_RETURN(below, ViewOf(ctx, fs.layers));
  }
  const layer::LayeredView& dest = below ? *below : empty;

  CopyOptions options;
  options.is_add = add != nullptr;
  options.workdir = state.config.config.working_dir.empty()
                        ? "/"
                        : state.config.config.working_dir;
  const std::string& chmod = copy ? copy->chmod : add->chmod;
  if (!chown.empty()) {
    std::optional<std::string> passwd, group;
    if (ChownNeedsLookup(chown)) {
      STRATA_ASSIGN_OR_RETURN(passwd, ReadViewFile(dest, "/etc/passwd"));
      STRATA_ASSIGN_OR_RETURN(group, ReadViewFile(dest, "/etc/group"));
    }
    STRATA_ASSIGN_OR_RETURN(options.chown, ResolveChown(chown, passwd, group));
  }
  if (!chmod.empty()) {
    STRATA_ASSIGN_OR_RETURN(options.chmod, ModeSpec::Parse(chmod));
  }
  options.excludes = copy ? copy->exclude_patterns : add->exclude_patterns;
  options.parents = copy && copy->parents;
  options.link = link;
  options.source_date_epoch = in.source_date_epoch;
  if (add) {
    options.checksum = add->checksum;
    options.unpack = add->unpack;
  }
  options.temp_dir = ctx.store.root() + "/tmp";

  STRATA_ASSIGN_OR_RETURN(CopyOperation keyed,
                          CopyOperation::Plan(*source, sd, options, empty));
  STRATA_ASSIGN_OR_RETURN(base::Digest content, keyed.ContentDigest());
  *key = cache::KeyBuilder()
             .Add("parent", fs.key)
             .Add("op", CopyKeyText(command, options))
             .Add("content", content)
             .Add("layer", ctx.layer_format_key)
             .Finish();
  return CachedStep(ctx, *key, in.no_cache,
                    [&]() -> Result<std::optional<Layer>> {
                      CopyOperation* op = &keyed;
                      std::optional<CopyOperation> planned;
                      if (!link) {  // conflicts are checked against below
                        if (!below) {
                          STRATA_ASSIGN_OR_RETURN(below,
                                                  ViewOf(ctx, fs.layers));
                        }
                        STRATA_ASSIGN_OR_RETURN(
                            planned, CopyOperation::Plan(*source, sd, options,
                                                         *below));
                        planned->ReuseDownloads(keyed);
                        op = &*planned;
                      }
                      return WriteNewLayer(ctx, [&](layer::LayerWriter& w) {
                        return op->Write(w);
                      });
                    });
}

}  // namespace strata::build
