#!/usr/bin/env bash
# Integration test of the build outputs and `strata save`, read back with
# the real tools: skopeo inspects the OCI layouts and archives, umoci
# unpacks the OCI layout, and its rootfs must match what type=local wrote,
# file by file; GNU tar lists the type=tar archive.
#
# Usage: outputs.sh STRATA_BINARY FIXTURE_BINARY
# Exit 77 (ctest SKIP_RETURN_CODE) only when skopeo or umoci is missing.
set -euo pipefail

strata=$1
fixture=$2

for tool in skopeo umoci tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh --test installs it)"
    exit 77
  fi
done

work=$(mktemp -d)
trap 'chmod -R u+rwx "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/store
out=$work/out
mkdir -p "$out"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}


digest=$("$fixture" "$root" "$out")
echo "fixture image: $digest"

check_inspect() {  # transport:ref, expected digest or "" to skip that check
  local got want="linux/amd64 layers=2"
  got=$(skopeo inspect --format \
    '{{.Os}}/{{.Architecture}} layers={{len .Layers}} {{.Digest}}' "$1") ||
    fail "skopeo inspect $1"
  [[ -n $2 ]] && want="$want $2"
  [[ $got == "$want"* ]] || fail "skopeo inspect $1: got '$got', want '$want'"
  echo "ok: skopeo inspect $1"
}

check_inspect "oci:$out/oci-dir:v1" "$digest"
check_inspect "oci-archive:$out/oci.tar:v1" "$digest"
# skopeo reports a docker archive's digest as its own conversion's.
check_inspect "docker-archive:$out/docker.tar" ""
check_inspect "docker-archive:$out/docker.tar:docker.io/library/fixture:v1" ""

"$strata" save --root "$root" -o "$work/saved.tar" fixture:v1
check_inspect "docker-archive:$work/saved.tar:fixture:v1" ""
"$strata" save --root "$root" --format oci -o "$work/saved-oci.tar" fixture:v1
check_inspect "oci-archive:$work/saved-oci.tar:v1" "$digest"
"$strata" images --root "$root" >"$work/images.txt"
grep -q '^fixture  *v1 ' "$work/images.txt" ||
  fail "strata images does not list fixture:v1"

# One line per entry: path, type, mode, link count, mtime (not for
# symlinks, whose times umoci does not set), symlink target, content hash.
tree() {
  (
    cd "$1"
    find . -mindepth 1 -printf '%P %y %m %n %l\n' | LC_ALL=C sort
    find . -mindepth 1 ! -type l -printf '%P %TY-%Tm-%Td %TH:%TM:%.2TS\n' |
      LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  )
}

umoci unpack --rootless --image "$out/oci-dir:v1" "$work/bundle" >/dev/null
tree "$work/bundle/rootfs" >"$work/umoci.txt"
tree "$out/local" >"$work/local.txt"
if ! diff -u "$work/umoci.txt" "$work/local.txt"; then
  fail "type=local differs from umoci's unpacked rootfs"
fi
echo "ok: type=local matches umoci unpack ($(wc -l <"$work/local.txt") lines)"

# The tar holds the same paths as the directory.
tar -tf "$out/fs.tar" | sed 's|/$||' | LC_ALL=C sort >"$work/tar-names.txt"
(cd "$out/local" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) \
  >"$work/dir-names.txt"
diff -u "$work/dir-names.txt" "$work/tar-names.txt" ||
  fail "type=tar lists other paths than type=local"
# Listed to a file first: grep -q closing the pipe early would make tar die
# of SIGPIPE and pipefail report a failure at random.
tar -tvf "$out/fs.tar" >"$work/tar-verbose.txt"
grep -q '^h.* bin/tool-link link to bin/tool$' "$work/tar-verbose.txt" ||
  fail "type=tar has no hardlink bin/tool-link"
echo "ok: type=tar lists the same file system"
echo "all output checks passed"
