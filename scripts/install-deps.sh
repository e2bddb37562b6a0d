#!/usr/bin/env bash
# Installs what strata needs to build (and, with --test, to test) from
# Debian 12's packages. Safe to run again: it only calls apt-get when a
# package is missing.
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config libarchive-dev libssl-dev
  libcurl4-openssl-dev nlohmann-json3-dev libzstd-dev zlib1g-dev libdeflate-dev
  busybox-static)
# The integration tests read strata's output with the real OCI tools,
# serve ADD URLs from a loopback python3 http.server, build rootless with
# subordinate ids (uidmap) and debootstrap a Debian base (debootstrap, jq).
# Registry tests push to and pull from the real docker-registry on loopback
# (plain, htpasswd over TLS, Bearer tokens), with certs made by openssl and
# bcrypt htpasswd files by apache2-utils.
test_pkgs=(googletest libgtest-dev libgmock-dev clang libclang-rt-dev
  skopeo umoci python3 xz-utils bzip2 zstd util-linux passwd
  openssh-client uidmap debootstrap jq apache2-utils docker-registry openssl)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
