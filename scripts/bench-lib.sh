# Helpers for scripts/bench.sh: logging, packages, loopback registries,
# dockerd, timing, the summary tables and the image content check.
# Sourced, not run. Expects $scratch (work dir) to be set by the caller.
# shellcheck shell=bash disable=SC2154

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ensure_packages PKG...: apt-get installs the ones that are missing.
ensure_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
      missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # docker.io's postinst would start the service; there is no init system
  # to own it here, so keep invoke-rc.d from starting anything.
  local policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ((policy_added)) && rm -f /usr/sbin/policy-rc.d
  return 0
}

# --- background daemons, stopped by pid at exit -------------------------

daemon_pids=()

# stop_pid PID: TERM, then KILL after 10 s.
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop_daemons() {
  local pid
  for pid in "${daemon_pids[@]}"; do stop_pid "$pid"; done
  daemon_pids=()
}

# registry_start PORT: Debian's docker-registry on 127.0.0.1:PORT with its
# own config and empty storage in $scratch/registry-PORT.
registry_start() {
  local port=$1 dir=$scratch/registry-$1
  curl -s -o /dev/null "http://127.0.0.1:$port/v2/" &&
    die "something already listens on 127.0.0.1:$port"
  rm -rf "$dir" && mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: strata-bench-local
EOF
  setsid /usr/bin/docker-registry serve "$dir/config.yml" \
    >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  daemon_pids+=("$(cat "$dir/pid")")
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
    kill -0 "$(cat "$dir/pid")" 2>/dev/null ||
      { tail -5 "$dir/registry.log" >&2; die "registry :$port exited"; }
    sleep 0.1
  done
  die "registry :$port did not answer"
}

registry_stop() {
  local pidf=$scratch/registry-$1/pid pid
  [[ -f $pidf ]] || return 0
  pid=$(cat "$pidf")
  stop_pid "$pid"
  rm -f "$pidf"
  local p left=()
  for p in "${daemon_pids[@]}"; do [[ $p == "$pid" ]] || left+=("$p"); done
  daemon_pids=("${left[@]}")
}

# dockerd_start DIR: Debian's dockerd with data, exec root, pidfile and
# socket under DIR; no iptables or bridge (builds use --network=host).
# dockerd starts its own containerd and takes it down when it stops.
dockerd_start() {
  local dir=$1
  mkdir -p "$dir/data" "$dir/exec"
  setsid /usr/sbin/dockerd --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" --host "unix://$dir/docker.sock" \
    --storage-driver overlay2 --iptables=false --ip-forward=false \
    --ip-masq=false --bridge=none \
    --insecure-registry 127.0.0.1:5000 --insecure-registry 127.0.0.1:5002 \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  daemon_pids+=("$!")
  export DOCKER_HOST=unix://$dir/docker.sock
  for _ in $(seq 1 150); do
    /usr/bin/docker version >/dev/null 2>&1 && return 0
    kill -0 "$!" 2>/dev/null ||
      { tail -15 "$dir/dockerd.log" >&2; die "dockerd exited"; }
    sleep 0.2
  done
  die "dockerd did not answer in 30 s (log: $dir/dockerd.log)"
}

# --- timing --------------------------------------------------------------

# timed TOOL SCENARIO REP -- COMMAND...: runs COMMAND under /usr/bin/time,
# output to $logs/TOOL-SCENARIO-REP.log, appends a row to $csv. Dies if
# COMMAND fails: a failed build must not show up as a fast one.
# maxrss is the largest single process that was waited for (getrusage).
timed() {
  local tool=$1 scen=$2 rep=$3 logf rc=0 e u s m
  shift 4
  logf=$logs/$tool-$scen-$rep.log
  /usr/bin/time -f '%e %U %S %M' -o "$scratch/time.out" "$@" >"$logf" 2>&1 ||
    rc=$?
  read -r e u s m < <(tail -n1 "$scratch/time.out")
  echo "$tool,$scen,$rep,$e,$u,$s,$m,$rc" >>"$csv"
  log "$tool $scen #$rep: ${e}s wall (${u}u ${s}s), maxrss $((m / 1024)) MB"
  ((rc == 0)) || { tail -20 "$logf" >&2; die "$tool $scen failed (rc=$rc)"; }
}

# pip_step_cached LOG: whether the build in LOG took the pip step from cache.
pip_step_cached() {
  local id
  # BuildKit-style plain progress (strata, docker):
  #   #7 [5/6] RUN pip install ...   and later   #7 CACHED
  id=$(grep -oE '^#[0-9]+ \[[^]]*\] RUN pip install' "$1" | head -1 |
    cut -d' ' -f1)
  if [[ -n $id ]]; then
    grep -qx "$id CACHED" "$1"
    return
  fi
  # buildah: "STEP 5/10: RUN pip install ..." then "--> Using cache ..."
  grep -A1 -E '^STEP [0-9/]+: RUN pip install' "$1" | grep -q 'Using cache'
}

# summary_table TOOL...: the markdown table of $csv, one row per scenario:
# median and min wall per tool, strata/peer median ratios (below 1 means
# strata is faster) and strata's peak RSS.
summary_table() {
  python3 - "$csv" "$@" <<'EOF'
import csv, statistics, sys

tools = sys.argv[2:]
walls, rss, scenarios = {}, {}, []
for row in csv.DictReader(open(sys.argv[1])):
    key = (row["tool"], row["scenario"])
    walls.setdefault(key, []).append(float(row["wall_s"]))
    rss[key] = max(rss.get(key, 0), int(row["maxrss_kb"]))
    if row["scenario"] not in scenarios:
        scenarios.append(row["scenario"])

head = ["scenario", "runs"]
head += [f"{t} {m} s" for t in tools for m in ("median", "min")]
head += [f"strata/{t}" for t in tools[1:]] + ["strata peak RSS MB"]
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
for scen in scenarios:
    med = {t: statistics.median(walls[t, scen]) for t in tools
           if (t, scen) in walls}
    cells = [scen, str(len(walls.get(("strata", scen), [])))]
    for t in tools:
        cells += [f"{med[t]:.2f}", f"{min(walls[t, scen]):.2f}"] \
            if t in med else ["-", "-"]
    for t in tools[1:]:
        ok = med.get(t) and "strata" in med
        cells.append(f"{med['strata'] / med[t]:.2f}" if ok else "-")
    cells.append(f"{rss.get(('strata', scen), 0) / 1024:.0f}")
    print("| " + " | ".join(cells) + " |")
EOF
}

# --- image contents ------------------------------------------------------

# layout_size_mb DIR: compressed size of the image's layers (manifest sum).
layout_size_mb() {
  local m
  m=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$1/index.json")
  jq '[.layers[].size] | add / 1048576 * 10 | round / 10' \
    "$1/blobs/sha256/$m"
}

# image_file_list LAYOUT OUT: writes the sorted list of what the image in
# the OCI layout holds under /app, /usr/local (where both Dockerfiles put
# pip's packages and scripts) and /install: path, type, mode, owner, and
# size and content digest, or link target. It reads the layer tars in
# order and applies whiteouts, as unpacking would, without writing a
# rootfs to disk (umoci unpack took most of --quick's time).
image_file_list() {
  python3 - "$1" >"$2" <<'EOF'
import hashlib, json, os, sys, tarfile

layout = sys.argv[1]
roots = ("app", "usr/local", "install")

def blob(digest):
    return os.path.join(layout, "blobs", *digest.split(":"))

# digest: the start of a file's sha256, for the files compared. A .pyc
# holds its source's mtime, which is the time pip installed it: those
# differ between any two builds, so only their names and sizes count.
def digest(path, tar, member):
    if path.endswith(".pyc") or not any(under(path, r) for r in roots):
        return "-"
    return hashlib.sha256(tar.extractfile(member).read()).hexdigest()[:16]

def under(path, root):
    return path == root or path.startswith(root + "/")

def drop(files, gone, children_only=False):
    for p in [p for p in files if p.startswith(gone + "/")
              or (p == gone and not children_only)]:
        del files[p]

index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
files = {}
for layer in manifest["layers"]:
    added = {}
    with tarfile.open(blob(layer["digest"]), "r|*") as tar:
        for m in tar:
            path = os.path.normpath(m.name).lstrip("/")
            parent, base = os.path.split(path)
            # Whiteouts hide what the layers below hold, not this layer.
            if base == ".wh..wh..opq":
                drop(files, parent, children_only=True)
            elif base.startswith(".wh."):
                drop(files, os.path.join(parent, base[4:]))
            elif m.islnk():
                target = os.path.normpath(m.linkname).lstrip("/")
                kind, _, _, size = added.get(target) or files[target]
                added[path] = (kind, m.mode, (m.uid, m.gid), size)
            elif m.isfile():
                added[path] = ("f", m.mode, (m.uid, m.gid),
                               "%d %s" % (m.size, digest(path, tar, m)))
            else:
                kind = "d" if m.isdir() else "l" if m.issym() else \
                    m.type.decode()
                added[path] = (kind, m.mode, (m.uid, m.gid),
                               m.linkname if m.issym() else "-")
    files.update(added)

lines = [r + " absent" for r in roots if not any(under(p, r) for p in files)]
for path, (kind, mode, (uid, gid), size) in files.items():
    if any(under(path, r) for r in roots):
        lines.append("%s %s %o %d:%d %s" % (path, kind, mode & 0o7777,
                                            uid, gid, size))
print("\n".join(sorted(lines)))
EOF
}

# compare_lists A B LABEL: fails (non-zero) and shows the difference when
# the two file lists differ; an empty list counts as a failure too.
compare_lists() {
  local a=$1 b=$2 label=$3
  if [[ ! -s $a || ! -s $b ]]; then
    log "content check $label: empty file list"
    return 1
  fi
  if ! diff -u "$a" "$b" >"$scratch/list.diff"; then
    log "content check $label: DIFFERENT ($(grep -c '^[-+][^-+]' \
      "$scratch/list.diff") lines differ; first ones:)"
    sed -n '3,23p' "$scratch/list.diff" >&2
    return 1
  fi
  log "content check $label: same $(wc -l <"$a") entries"
}
