#!/usr/bin/env bash
# Builds strata into build/strata and runs its main job on the embedded
# example (testdata/examples/python-app): no registry, no network needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTRATA_TESTS=OFF >/dev/null
ninja -C build strata

echo "== build/strata build --dry-run testdata/examples/python-app"
build/strata build --dry-run --build-arg PYTHON_VERSION=3.11 \
  -t example/python-app:dev testdata/examples/python-app
