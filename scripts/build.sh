#!/usr/bin/env bash
# Builds strata into build/strata and runs its main job, with no registry
# and no network:
#   1. makes a tiny base image from Debian's busybox-static as an OCI layout
#      (out/busybox-oci, tag "latest");
#   2. builds the example testdata/examples/hello (multi-stage, COPY --from,
#      heredoc, --chown by name, HEALTHCHECK...) on that base, passed as the
#      build context "busybox", into the OCI layout out/hello-oci (tag "v1"),
#      and tags it in the local store as strata-example/hello:v1.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTRATA_TESTS=OFF >/dev/null
ninja -C build strata

mkdir -p out
echo "== base image: scripts/make-busybox-base.sh build/strata out"
scripts/make-busybox-base.sh build/strata out --progress=plain

echo "== build/strata build ... testdata/examples/hello"
build/strata build --progress=plain \
  --build-context busybox=oci-layout://"$(pwd)"/out/busybox-oci:latest \
  -t strata-example/hello:v1 \
  --output type=oci,dest=out/hello-oci/ \
  --iidfile out/hello.iid \
  testdata/examples/hello
echo "== image $(cat out/hello.iid) written to out/hello-oci (OCI layout, tag v1)"
ls out/hello-oci
