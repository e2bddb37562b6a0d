#!/usr/bin/env bash
# Makes the python-slim-like Debian base image the workload tests build on:
# debootstrap --variant=minbase bookworm plus python3, pip and venv, slimmed
# the way the official python:*-slim images are, stored as an OCI layout
# (tag "3.11-slim") with one deterministic gzip layer.
#
#   scripts/make-debian-base.sh        # prints the layout's path
#
# debootstrap takes a minute or more, so the result is cached outside the
# clone, keyed by everything that goes into it (this script, the suite, the
# packages, the mirror and the architecture):
#   ${STRATA_TEST_CACHE:-/var/cache/strata-test}/debian-python-KEY/
# Delete the directory to redo it. Needs root (debootstrap, file owners).
#
# Environment: MIRROR (default: the first Debian URI apt is configured with),
# STRATA_TEST_CACHE, SOURCE_DATE_EPOCH (default 1700000000).
set -euo pipefail

suite=bookworm
packages=python3,python3-pip,python3-venv
epoch=${SOURCE_DATE_EPOCH:-1700000000}
cache=${STRATA_TEST_CACHE:-/var/cache/strata-test}
arch=$(dpkg --print-architecture)

configured_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources \
          /etc/apt/sources.list 2>/dev/null |
        grep -v security | grep -oE 'https?://[^ ]+' | head -1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${MIRROR:-$(configured_mirror)}

[ "$(id -u)" = 0 ] || { echo "make-debian-base: needs root (debootstrap)" >&2; exit 1; }
for tool in debootstrap jq sha256sum gzip tar; do
  command -v "$tool" >/dev/null ||
    { echo "make-debian-base: $tool missing (scripts/install-deps.sh --test)" >&2; exit 1; }
done

key=$( { cat "$0"; echo "$suite $packages $mirror $arch $epoch"; } |
       sha256sum | cut -c1-16)
out=$cache/debian-python-$key
mkdir -p "$cache"
# Two test runs may ask at once: one makes it, the other waits.
exec 9>"$cache/.lock-$key"
flock 9
if [ -f "$out/index.json" ]; then
  echo "$out"
  exit 0
fi

work=$(mktemp -d "$cache/.work-XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
echo "make-debian-base: debootstrap $suite ($packages) from $mirror" >&2
if ! debootstrap --variant=minbase --include="$packages" --arch="$arch" \
       "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -20 "$work/debootstrap.log" >&2
  echo "make-debian-base: debootstrap failed (is $mirror reachable?)" >&2
  exit 1
fi

# Slim it as the official python:*-slim images are.
(
  cd "$rootfs"
  rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb \
    var/cache/apt/archives/partial/* var/cache/debconf/*-old var/lib/dpkg/*-old \
    var/log/* tmp/* root/.cache usr/share/man/* usr/share/info/* \
    usr/share/lintian dev/* proc/* sys/* run/*
  find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
  find usr/share/doc -mindepth 1 -type d -empty -delete
  find usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias \
    -exec rm -rf {} +
  find . -name __pycache__ -type d -prune -exec rm -rf {} +
  # Plain `pip install` works in the official image: no PEP 668 marker.
  rm -f usr/lib/python3*/EXTERNALLY-MANAGED
  ln -sf python3 usr/bin/python
  : >etc/resolv.conf
  echo localhost >etc/hostname
)
pyver=$(chroot "$rootfs" /usr/bin/python3 -c \
          'import platform; print(platform.python_version())')

layout=$work/layout
mkdir -p "$layout/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

# put FILE: moves FILE into the layout's blobs, prints its sha256 hex.
put() {
  local hex
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$layout/blobs/sha256/$hex"
  echo "$hex"
}

# One layer: sorted names, numeric owners, times clamped, no atime/ctime.
(cd "$rootfs" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) |
  tar -C "$rootfs" --no-recursion -T - --format=posix \
    --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
    --numeric-owner --mtime="@$epoch" --clamp-mtime -cf "$work/layer.tar"
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -6 "$work/layer.tar"
layer_size=$(stat -c %s "$work/layer.tar.gz")
layer=$(put "$work/layer.tar.gz")

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
jq -cn --arg created "$created" --arg arch "$arch" --arg diff "sha256:$diff_id" \
  --arg py "$pyver" --arg by "debootstrap --variant=minbase $suite + $packages" '{
    created: $created, architecture: $arch, os: "linux",
    config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "LANG=C.UTF-8", "PYTHON_VERSION=\($py)"],
             Cmd: ["python3"]},
    rootfs: {type: "layers", diff_ids: [$diff]},
    history: [{created: $created, created_by: $by}]}' >"$work/config.json"
config_size=$(stat -c %s "$work/config.json")
config=$(put "$work/config.json")

jq -cn --arg c "sha256:$config" --argjson cs "$config_size" \
  --arg l "sha256:$layer" --argjson ls "$layer_size" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json",
             digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
              digest: $l, size: $ls}]}' >"$work/manifest.json"
manifest_size=$(stat -c %s "$work/manifest.json")
manifest=$(put "$work/manifest.json")

jq -n --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg arch "$arch" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
                 digest: $m, size: $ms,
                 platform: {architecture: $arch, os: "linux"},
                 annotations: {"org.opencontainers.image.ref.name": "3.11-slim"}}]}' \
  >"$layout/index.json"

# Rename last: a half-made layout is never found under the key.
mv "$layout" "$out"
echo "make-debian-base: $out (python $pyver, layer $layer_size bytes)" >&2
echo "$out"
