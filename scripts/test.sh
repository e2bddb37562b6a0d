#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#  1. a g++ build with -Werror and every ctest case (unit, conformance, CLI);
#  2. a clang build with ASan+UBSan running the same unit tests;
#  3. the libFuzzer targets for a bounded time each.
# Build directories: build-test/, build-asan/ (kept between runs for speed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/install-deps.sh --test

echo "== [1/3] g++ -Werror build and tests"
# -O2 without -g: debug info is a third of the compile time, and the
# sanitizer pass below keeps full stack traces.
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DSTRATA_WERROR=ON >/dev/null
ninja -C build-test -j"$jobs"
(cd build-test && ctest -j"$jobs" --output-on-failure --timeout 300)

echo "== [2/3] clang ASan+UBSan build and tests"
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON -DSTRATA_FUZZ=ON >/dev/null
ninja -C build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The ML and apt workloads spend their time in pip and apt, not in strata
# code the other tests leave unchecked: they run in the g++ pass only.
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600 -LE fuzz \
  -E 'WorkloadTest\.(MlService|AptGet)')

echo "== [3/3] fuzzing (bounded time each)"
(cd build-asan && ctest --output-on-failure -L fuzz)
echo "== all tests passed"
