// Work spread over a few threads: blob uploads and downloads, where the
// wait is on the network and two or three connections keep both cores and
// the link busy.
#ifndef STRATA_BASE_PARALLEL_H_
#define STRATA_BASE_PARALLEL_H_

#include <cstddef>
#include <functional>

#include "base/result.h"

namespace strata::base {

/// Runs fn(i) for every i in [0, count) on up to `workers` threads, the
/// caller's among them. After the first error no new index is started;
/// that error is returned once the running calls end.
Status ParallelFor(size_t count, size_t workers,
                   const std::function<Status(size_t)>& fn);

}  // namespace strata::base

#endif  // STRATA_BASE_PARALLEL_H_
