#include "build/steps.h"

namespace strata::build {

base::Result<StepOutcome> ExecRun(const StepContext&, const StepInputs&,
                                  const dockerfile::RunCommand&,
                                  const StageState&, const StageFs&,
                                  base::Digest*) {
  // RUN needs the sandbox of issue #4; until it lands, say so plainly
  // instead of producing an image that silently lacks the step.
  return base::MakeError(base::Code::kUnsupported,
                         "RUN is not available yet in this version of strata "
                         "(the rootless sandbox is issue #4)");
}

}  // namespace strata::build
