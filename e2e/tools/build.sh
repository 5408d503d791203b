#!/usr/bin/env bash
# build.sh builds the binaries the e2e tests run — kube-apiserver and etcd —
# from the Go module proxy, pinned by this directory's go.mod and go.sum.
#
# Output: ${MESHFED_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/k8s-v1.37.2}/
# The build is skipped when the stamp file there matches a hash of go.mod,
# go.sum, this script and `go version`. The last line printed is the
# directory, ready for KUBEBUILDER_ASSETS.
set -euo pipefail

K8S_VERSION=v1.37.2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${MESHFED_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/k8s-${K8S_VERSION}}"
stamp="${out}/.stamp"

cd "${here}"
# This module stands alone: no workspace, no edits to go.mod or go.sum.
export GOWORK=off
export GOFLAGS="-mod=readonly ${GOFLAGS:-}"
# Static binaries, as the Kubernetes release builds them.
export CGO_ENABLED=0

want="$(
  {
    cat go.mod go.sum build.sh
    go version
  } | sha256sum | cut -d' ' -f1
)"

if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" && -x "${out}/kube-apiserver" && -x "${out}/etcd" ]]; then
  echo "tools up to date in ${out}" >&2
  echo "${out}"
  exit 0
fi

mkdir -p "${out}"
tmp="$(mktemp -d "${out}/.build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

echo "downloading modules" >&2
go mod download

# Stamp the version the apiserver reports on /version, as the release does.
version_pkg=k8s.io/component-base/version
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
ldflags+=" -X ${version_pkg}.gitVersion=${K8S_VERSION}"
ldflags+=" -X ${version_pkg}.gitMajor=1"
ldflags+=" -X ${version_pkg}.gitMinor=${minor}"
ldflags+=" -X ${version_pkg}.gitTreeState=clean"

echo "building etcd" >&2
time go build -trimpath -ldflags="-s -w" -o "${tmp}/etcd" go.etcd.io/etcd/server/v3
echo "building kube-apiserver" >&2
time go build -trimpath -ldflags="${ldflags}" -o "${tmp}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver

mv -f "${tmp}/etcd" "${out}/etcd"
mv -f "${tmp}/kube-apiserver" "${out}/kube-apiserver"
echo "${want}" > "${stamp}"
ls -l "${out}" >&2
echo "${out}"
