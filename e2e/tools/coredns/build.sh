#!/usr/bin/env bash
# build.sh builds CoreDNS (main.go beside this script: CoreDNS's own plugins, a subset) from
# the Go module proxy, pinned by this directory's go.mod and go.sum, for the DNS tests and
# `meshfed-bench dns`.
#
# Output: ${MESHFED_COREDNS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/coredns-v1.15.0}/coredns
# The build is skipped when the stamp file there matches a hash of go.mod, go.sum, main.go,
# this script and `go version`. The last line printed is the directory.
set -euo pipefail

COREDNS_VERSION=v1.15.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${MESHFED_COREDNS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/coredns-${COREDNS_VERSION}}"
stamp="${out}/.stamp"

cd "${here}"
# This module stands alone: no workspace, no edits to go.mod or go.sum.
export GOWORK=off
export GOFLAGS="-mod=readonly ${GOFLAGS:-}"
export CGO_ENABLED=0

want="$(
  {
    cat go.mod go.sum main.go build.sh
    go version
  } | sha256sum | cut -d' ' -f1
)"

if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" && -x "${out}/coredns" ]]; then
  echo "coredns up to date in ${out}" >&2
  echo "${out}"
  exit 0
fi

mkdir -p "${out}"
tmp="$(mktemp -d "${out}/.build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

echo "building coredns ${COREDNS_VERSION}" >&2
time go build -trimpath -ldflags="-s -w" -o "${tmp}/coredns" .

mv -f "${tmp}/coredns" "${out}/coredns"
echo "${want}" > "${stamp}"
ls -l "${out}" >&2
echo "${out}"
