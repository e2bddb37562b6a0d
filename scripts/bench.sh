#!/usr/bin/env bash
# Benchmarks strata against buildah (and, with --with-docker, Docker with
# BuildKit) on the ml-app workload of testdata/ml-app, on this machine.
#
#   scripts/bench.sh [--quick] [--reps N] [--with-docker] [--out DIR] [--keep]
#                    [--no-loopfs]
#
# Scenarios, each run N times; within a rep the tools take turns, so that
# drift on the machine hits all of them alike:
#   cold        empty store: base pulled from 127.0.0.1:5000, full build
#   nocache     base present, --no-cache
#   nochange    the same context again: every step from cache
#   edit1       one src/*.py file edited: only COPY . . runs again (checked:
#               the pip step must come from the cache)
#   push        the image to a fresh registry on 127.0.0.1:5002 that already
#               holds the base, under another repository
#   multistage  empty store, Dockerfile.multistage
# The images' files under /app, /usr/local and /install are then compared
# between the tools: any difference fails the run (exit 1), so a fast wrong
# answer cannot win.
#
# Options:
#   --quick        one rep, small context, no docker (under 3 minutes once
#                  the base image is cached)
#   --reps N       runs per scenario (default 5)
#   --with-docker  add DOCKER_BUILDKIT=1 /usr/bin/docker build (Debian's
#                  docker.io; dockerd started here with its own data root)
#   --out DIR      where runs.csv (raw runs), summary.md (the tables), the
#                  images' file lists and logs/ go (default
#                  $BENCH_SCRATCH-results)
#   --keep         keep stores, context and registries' data at the end
#                  (and the scratch file system mounted)
#   --no-loopfs    work in $BENCH_SCRATCH on its own file system, not on a
#                  fresh ext4 mounted there (see mount_scratch_fs)
#
# Environment:
#   STRATA             strata binary (default: built into build-bench/)
#   STRATA_EXTRA       more flags for strata build (e.g. "--compression zstd")
#   BENCH_SCRATCH      work dir (default /tmp/strata-bench), emptied first
#   STRATA_TEST_CACHE  cache of scripts/make-debian-base.sh
#
# Runs as root on Debian 12; apt-gets what is missing (buildah, skopeo,
# docker-registry, ...). Listens on 127.0.0.1:5000 and :5002 only.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$repo/scripts/bench-lib.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

reps=5 scale=full with_docker=0 keep=0 loopfs=1 results_dir=
while (($#)); do
  case $1 in
    --quick) reps=1 scale=small with_docker=0 ;;
    --reps) reps=${2:?--reps needs a number}; shift ;;
    --with-docker) with_docker=1 ;;
    --out) results_dir=${2:?--out needs a directory}; shift ;;
    --keep) keep=1 ;;
    --no-loopfs) loopfs=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps wants a positive number"
[[ $(id -u) == 0 ]] || die "run as root (debootstrap, buildah, dockerd)"

scratch=${BENCH_SCRATCH:-/tmp/strata-bench}
results_dir=${results_dir:-$scratch-results}
ctx=$scratch/ctx
logs=$results_dir/logs
csv=$results_dir/runs.csv
push_reg=127.0.0.1:5002
started=$SECONDS

# --- setup ---------------------------------------------------------------

# The scratch dir is emptied: only ever one this script made.
prepare_scratch() {
  if [[ -d $scratch && -n $(ls -A "$scratch") &&
    ! -e $scratch/.strata-bench ]]; then
    die "$scratch is not empty and not a bench dir; set BENCH_SCRATCH"
  fi
  mkdir -p "$scratch"
  touch "$scratch/.strata-bench"
  find "$scratch" -mindepth 1 -maxdepth 1 ! -name .strata-bench \
    -exec rm -rf {} +
  mkdir -p "$logs"
  echo "tool,scenario,rep,wall_s,user_s,sys_s,maxrss_kb,rc" >"$csv"
  local free_gb
  free_gb=$(df --output=avail -BG "$scratch" | tail -1 | tr -dc 0-9)
  ((free_gb >= 4)) || die "only ${free_gb} GB free under $scratch"
  mount_scratch_fs
}

# Every store, registry and context lives on a fresh ext4 (with its
# journal, as a CI runner's disk has) in a sparse image file beside the
# scratch dir. These VMs' root is ext4 without a journal, where allocating
# inodes scans those freed in the last minute (ialloc.c, recently_deleted):
# a build right after another tool deleted its files spent up to half its
# time there, by chance of which inode groups it landed in.
scratch_img=$scratch.ext4
mount_scratch_fs() {
  ((loopfs)) || return 0
  mountpoint -q "$scratch" && umount "$scratch"
  rm -f "$scratch_img"
  truncate -s 40G "$scratch_img"
  mkfs.ext4 -q -F "$scratch_img"
  mount -o loop "$scratch_img" "$scratch"
  touch "$scratch/.strata-bench"
}

install_tools() {
  ensure_packages buildah runc skopeo docker-registry time jq curl \
    debootstrap python3 tar gzip
  if ((with_docker)); then
    # /usr/local/bin/docker may be another client: we want Debian's
    # 20.10 CLI and daemon at their Debian paths.
    if [[ ! -x /usr/bin/docker || ! -x /usr/sbin/dockerd ]]; then
      ensure_packages docker.io containerd
    fi
  fi
}

ensure_strata() {
  if [[ -n ${STRATA:-} ]]; then
    [[ -x $STRATA ]] || die "STRATA=$STRATA is not an executable"
    return
  fi
  log "building strata (Release) in build-bench/"
  "$repo/scripts/install-deps.sh"
  cmake -S "$repo" -B "$repo/build-bench" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$repo/build-bench" strata >"$logs/build-strata.log" ||
    { tail -20 "$logs/build-strata.log" >&2; die "building strata failed"; }
  STRATA=$repo/build-bench/strata
}

# seed_base PORT: the Debian python base as python:3.11-slim in a registry.
seed_base() {
  skopeo copy -q --dest-tls-verify=false "oci:$base_layout:3.11-slim" \
    "docker://127.0.0.1:$1/python:3.11-slim"
}

# fresh_push_registry: :5002 wiped and holding only the base, so every push
# finds what a first push to a real registry finds.
fresh_push_registry() {
  registry_stop 5002
  registry_start 5002
  seed_base 5002
}

cleanup() {
  local rc=$?
  set +e
  stop_daemons
  unmount_under "$scratch"
  if ((!keep)); then
    find "$scratch" -mindepth 1 -maxdepth 1 ! -path "$results_dir" \
      ! -name .strata-bench -exec rm -rf {} +
    if ((loopfs)) && mountpoint -q "$scratch"; then
      umount "$scratch" && rm -f "$scratch_img"
    fi
  fi
  exit "$rc"
}

unmount_under() {
  grep -o " $1/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l \
    2>/dev/null || true
}

# --- the tools -----------------------------------------------------------
# Per tool: TOOL_build (command array; -f, -t and the context are added),
# TOOL_wipe (empty store), TOOL_push_cmd DEST (sets push_cmd, untimed
# preparation included) and TOOL_export NAME DIR (OCI layout, untimed).
# The TOOL_build arrays are used through a nameref in build().

strata_root=$scratch/strata
setup_strata() {
  # shellcheck disable=SC2034
  strata_build=("$STRATA" build --root "$strata_root" --progress plain ${STRATA_EXTRA:-})
}
strata_wipe() { rm -rf "$strata_root"; }
strata_push_cmd() {
  push_cmd=("$STRATA" push --root "$strata_root" ml-app:bench "$1")
}
strata_export() {
  mkdir -p "$2"
  "$STRATA" save --root "$strata_root" --format oci -o "$2.tar" "$1"
  tar -xf "$2.tar" -C "$2" && rm "$2.tar"
}

setup_buildah() {
  buildah=(buildah --root "$scratch/buildah/root"
    --runroot "$scratch/buildah/run" --storage-driver overlay)
  # --layers: buildah caches steps only when asked. --format docker:
  # the oci format drops HEALTHCHECK.
  # shellcheck disable=SC2034
  buildah_build=("${buildah[@]}" build --layers --isolation chroot
    --format docker --tls-verify=false)
}
buildah_wipe() {
  "${buildah[@]}" rm -a >/dev/null 2>&1 || true
  "${buildah[@]}" rmi -a -f >/dev/null 2>&1 || true
  unmount_under "$scratch/buildah"
  rm -rf "$scratch/buildah"
}
buildah_push_cmd() {
  # containers/image remembers which repositories held which blobs and
  # would try to mount blobs of an earlier, wiped registry: forget that.
  rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
  push_cmd=("${buildah[@]}" push --tls-verify=false ml-app:bench
    "docker://$1")
}
buildah_export() { "${buildah[@]}" push -q "$1" "oci:$2:${1#*:}" >/dev/null; }

setup_docker() {
  dockerd_start "$scratch/docker"
  export DOCKER_BUILDKIT=1
  # dockerd runs with --bridge=none: RUN steps use the host's network.
  # shellcheck disable=SC2034
  docker_build=(/usr/bin/docker build --network=host --progress=plain)
}
docker_wipe() {
  /usr/bin/docker system prune -af >/dev/null 2>&1 || true
  /usr/bin/docker builder prune -af >/dev/null 2>&1 || true
}
docker_push_cmd() {
  /usr/bin/docker tag ml-app:bench "$1"
  push_cmd=(/usr/bin/docker push "$1")
}
docker_export() {
  # docker save writes uncompressed layers; the registry copy is the image
  # as it ships.
  local ref=$push_reg/export-${1%%:*}-${1#*:}
  /usr/bin/docker tag "$1" "$ref" && /usr/bin/docker push "$ref" >/dev/null
  skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$2:${1#*:}"
}

# --- scenarios -----------------------------------------------------------

# build TOOL SCENARIO REP DOCKERFILE TAG [ARGS...]
build() {
  local tool=$1 scen=$2 rep=$3 file=$4 tag=$5
  shift 5
  local -n cmd=${tool}_build
  timed "$tool" "$scen" "$rep" -- "${cmd[@]}" "$@" -f "$ctx/$file" \
    -t "$tag" "$ctx"
}

# check_contents IMAGE: each tool's IMAGE exported, its file list compared
# with strata's; sizes recorded for the report.
declare -A size_mb
check_contents() {
  local image=$1 t dir list
  for t in "${tools[@]}"; do
    dir=$scratch/export/$t-${image#*:}
    list=$results_dir/files-$t-${image#*:}.txt
    "${t}_export" "$image" "$dir"
    size_mb[$t/$image]=$(layout_size_mb "$dir")
    image_file_list "$dir" "$list"
    rm -rf "$dir"
    [[ $t == buildah && $image == ml-app:multi ]] && buildah_owner_quirk "$list"
  done
  for t in "${tools[@]:1}"; do
    compare_lists "$results_dir/files-strata-${image#*:}.txt" \
      "$results_dir/files-$t-${image#*:}.txt" "$image strata vs $t" ||
      die "$image: strata's files differ from $t's (lists in $results_dir)"
  done
  return 0
}

# buildah_owner_quirk LIST: buildah 1.28 gives the existing parent of a
# COPY --chown destination to the chown user, BuildKit only the directories
# it creates. Dockerfile.multistage's COPY --chown=10001:10001 src/ ./src/
# so makes buildah's /app (made by WORKDIR, as root) 10001's: that one line
# is set back to root's before comparing.
buildah_owner_quirk() {
  sed -i 's|^app d 755 10001:10001 -$|app d 755 0:0 -|' "$1"
}

# Empties every tool's store before a cold scenario. With --no-loopfs on
# ext4 without a journal (these VMs' root), the deletions are then left to
# age: the kernel skips inodes freed in the last 60 s (360 s while their
# inode table block is dirty, hence the sync) when it allocates new ones,
# so a build started right after removing ~10,000 files spends seconds of
# system time scanning them. A CI runner starts from a clean disk, not from
# one that just lost a store; all tools get the same treatment.
wipe_all_and_settle() {
  local t
  for t in "${tools[@]}"; do "${t}_wipe"; done
  sync
  ((loopfs)) || sleep 61
}

run_rep() {
  local rep=$1 t
  wipe_all_and_settle
  for t in "${tools[@]}"; do
    build "$t" cold "$rep" Dockerfile ml-app:bench
  done
  for t in "${tools[@]}"; do
    build "$t" nocache "$rep" Dockerfile ml-app:bench --no-cache
  done
  for t in "${tools[@]}"; do
    build "$t" nochange "$rep" Dockerfile ml-app:bench
  done
  echo "# edit $rep $(date +%s%N)" >>"$ctx/src/mlsvc/main.py"
  for t in "${tools[@]}"; do
    build "$t" edit1 "$rep" Dockerfile ml-app:bench
    pip_step_cached "$logs/$t-edit1-$rep.log" ||
      die "$t edit1: the pip step was not taken from the cache"
  done
  for t in "${tools[@]}"; do
    fresh_push_registry
    "${t}_push_cmd" "$push_reg/ml-app:bench"
    timed "$t" push "$rep" -- "${push_cmd[@]}"
  done
  ((rep == 1)) && check_contents ml-app:bench
  wipe_all_and_settle
  for t in "${tools[@]}"; do
    build "$t" multistage "$rep" Dockerfile.multistage ml-app:multi
  done
  ((rep == 1)) && check_contents ml-app:multi
  return 0
}

# --- report --------------------------------------------------------------

write_summary() {
  local t row
  echo "# strata vs peers: ml-app ($scale context, $reps rep(s))"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r);" \
    "$("$STRATA" --version 2>&1 | head -1); $(buildah --version)"
  ((with_docker)) && echo "docker $(/usr/bin/docker version \
    --format '{{.Server.Version}}') (BuildKit, overlay2)"
  echo
  echo "## Wall time, seconds"
  echo
  summary_table "${tools[@]}"
  echo
  echo "Ratios are strata's median over the peer's: below 1 strata is" \
    "faster. Peak RSS is the largest single process /usr/bin/time saw" \
    "(strata or a RUN step); docker's is only the CLI's."
  echo
  echo "## Image size: compressed layers, MiB"
  echo
  row="| image |"
  for t in "${tools[@]}"; do row+=" $t |"; done
  echo "$row"
  echo "|---|$(printf -- '---:|%.0s' "${tools[@]}")"
  for image in ml-app:bench ml-app:multi; do
    row="| $image |"
    for t in "${tools[@]}"; do row+=" ${size_mb[$t/$image]:--} |"; done
    echo "$row"
  done
  echo
  echo "Content check: the files under /app, /usr/local and /install of" \
    "both images (type, mode, owner, size, sha256) are the same for" \
    "${tools[*]}; .pyc contents are not compared (they hold pip's install" \
    "time), and buildah's multistage /app owner is taken as BuildKit's" \
    "(see buildah_owner_quirk). Lists: files-TOOL-IMAGE.txt."
}

main() {
  local rep t
  prepare_scratch
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  install_tools
  ensure_strata
  tools=(strata buildah)
  ((with_docker)) && tools+=(docker)

  base_layout=$("$repo/scripts/make-debian-base.sh")
  registry_start 5000
  seed_base 5000
  python3 "$repo/scripts/make-ml-context.py" "$ctx" --scale "$scale" \
    --force >&2
  for t in "${tools[@]}"; do "setup_$t"; done
  log "tools: ${tools[*]}; $reps rep(s), $scale context"

  for rep in $(seq 1 "$reps"); do run_rep "$rep"; done
  for t in "${tools[@]}"; do "${t}_wipe"; done

  write_summary | tee "$results_dir/summary.md"
  log "done in $((SECONDS - started)) s; raw runs: $csv"
}

main
