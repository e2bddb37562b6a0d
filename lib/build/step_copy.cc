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
  // --link never reads the stage below: its layers (a registry base's,
  // perhaps not downloaded) are only opened when a user name is looked up.
  layer::LayeredView dest(std::vector<std::string>{});
  if (!link || (!chown.empty() && ChownNeedsLookup(chown))) {
    STRATA_ASSIGN_OR_RETURN(dest, ViewOf(ctx, fs.layers));
  }

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

  STRATA_ASSIGN_OR_RETURN(CopyOperation op,
                          CopyOperation::Plan(*source, sd, options, dest));
  STRATA_ASSIGN_OR_RETURN(base::Digest content, op.ContentDigest());
  *key = cache::KeyBuilder()
             .Add("parent", fs.key)
             .Add("op", CopyKeyText(command, options))
             .Add("content", content)
             .Add("layer", ctx.compression_key)
             .Finish();
  return CachedStep(ctx, *key, in.no_cache,
                    [&]() -> Result<std::optional<Layer>> {
                      return WriteNewLayer(ctx, [&](layer::LayerWriter& w) {
                        return op.Write(w);
                      });
                    });
}

}  // namespace strata::build
