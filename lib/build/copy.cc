#include "build/copy.h"

#include "build/copy_internal.h"

namespace strata::build {

CopySource CopySource::Context(std::string dir,
                               std::vector<std::string> ignore_patterns,
                               std::string stat_cache_path) {
  return CopySource(copy_internal::NewContextFs(
      std::move(dir), std::move(ignore_patterns), std::move(stat_cache_path)));
}

CopySource CopySource::View(const layer::LayeredView* view, std::string name) {
  return CopySource(copy_internal::NewViewFs(view, std::move(name)));
}

CopyOperation::CopyOperation(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
CopyOperation::CopyOperation(CopyOperation&&) noexcept = default;
CopyOperation& CopyOperation::operator=(CopyOperation&&) noexcept = default;
CopyOperation::~CopyOperation() = default;

base::Result<CopyOperation> CopyOperation::Plan(
    const CopySource& source, const dockerfile::SourcesAndDest& paths,
    const CopyOptions& options, const layer::LayeredView& dest) {
  auto impl = std::make_unique<Impl>(options, &dest);
  STRATA_TRY(impl->PlanAll(source, paths));
  return CopyOperation(std::move(impl));
}

base::Result<base::Digest> CopyOperation::ContentDigest() {
  return impl_->Digest();
}

base::Status CopyOperation::Write(layer::LayerWriter& writer) {
  return impl_->WriteLayer(writer);
}

}  // namespace strata::build
