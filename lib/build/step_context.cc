#include "build/step_context.h"

#include <ctime>

namespace strata::build {

using base::Result;

Result<std::optional<Layer>> WriteNewLayer(
    const StepContext& ctx,
    const std::function<base::Status(layer::LayerWriter&)>& fill) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> blob,
                          ctx.store.NewBlobWriter());
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<layer::LayerWriter> writer,
                          layer::LayerWriter::Create(blob.get(), ctx.writer));
  STRATA_TRY(fill(*writer));
  bool empty = writer->entry_count() == 0;
  STRATA_ASSIGN_OR_RETURN(layer::LayerInfo info, writer->Finish());
  if (empty) return std::optional<Layer>();  // the temp blob is dropped
  STRATA_ASSIGN_OR_RETURN(base::Digest digest, blob->Commit(info.digest));
  Layer out;
  out.blob = {info.media_type, digest, info.size, {}, std::nullopt};
  out.diff_id = info.diff_id;
  return std::optional<Layer>(std::move(out));
}

Result<StepOutcome> CachedStep(
    const StepContext& ctx, const base::Digest& key, bool no_cache,
    const std::function<Result<std::optional<Layer>>()>& make) {
  if (!no_cache) {
    STRATA_ASSIGN_OR_RETURN(std::optional<cache::Entry> hit,
                            ctx.cache.Lookup(key));
    if (hit) {
      if (ctx.journal != nullptr) ctx.journal->Add(key, *hit);
      StepOutcome out;
      out.cached = true;
      out.created = hit->created;
      if (hit->layer) {
        const cache::LayerRecord& r = *hit->layer;
        out.layer = Layer{{r.media_type, r.digest, r.size, {}, std::nullopt},
                          r.diff_id};
      }
      return out;
    }
  }
  STRATA_ASSIGN_OR_RETURN(std::optional<Layer> layer, make());
  cache::Entry entry;
  entry.created = std::time(nullptr);
  if (layer) {
    entry.layer = cache::LayerRecord{layer->blob.media_type, layer->blob.digest,
                                     layer->blob.size, layer->diff_id, 0};
  }
  STRATA_TRY(ctx.cache.Put(key, entry));
  if (ctx.journal != nullptr) ctx.journal->Add(key, entry);
  StepOutcome out;
  out.layer = std::move(layer);
  out.created = entry.created;
  return out;
}

Result<layer::LayeredView> ViewOf(const StepContext& ctx,
                                  const std::vector<Layer>& layers) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> dirs,
                          ctx.layers.UnpackedAll(layers));
  return layer::LayeredView(std::move(dirs));
}

Result<std::optional<std::string>> ReadViewFile(const layer::LayeredView& view,
                                                const std::string& path) {
  Result<std::unique_ptr<base::Source>> src = view.Open(path);
  if (!src) {
    if (src.error().code() == base::Code::kNotFound) {
      return std::optional<std::string>();
    }
    return std::move(src).error();
  }
  base::StringSink sink;
  STRATA_TRY(base::CopyStream(**src, sink));
  return std::optional<std::string>(sink.str());
}

}  // namespace strata::build
