#!/usr/bin/env bash
# Makes strata's example base image from Debian's busybox-static and stores
# it as an OCI layout: DIR/busybox-oci (tag "latest"), using the strata
# binary given. The rootfs holds busybox, a link per applet, and a passwd
# and group with root and "www" (uid/gid 1000).
#
#   scripts/make-busybox-base.sh STRATA_BINARY DIR [extra strata build args]
set -euo pipefail
strata=$1
out=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)

ctx=$out/busybox-base
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp" "$ctx/rootfs/root"
cp "$here/testdata/examples/busybox-base/Dockerfile" "$ctx/Dockerfile"
cp /bin/busybox "$ctx/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$ctx/rootfs/bin/$applet"
done
chmod 1777 "$ctx/rootfs/tmp"
cat > "$ctx/rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
www:x:1000:1000:www:/srv/www:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$ctx/rootfs/etc/group" <<'GROUP'
root:x:0:
www:x:1000:
nogroup:x:65534:
GROUP
# Fixed times: the same busybox gives the same base image digest.
find "$ctx/rootfs" -exec touch -h -d @0 {} +
"$strata" build --source-date-epoch 0 --output "type=oci,dest=$out/busybox-oci/" \
  -t strata-example/busybox:latest "$@" "$ctx"
