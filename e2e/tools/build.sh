#!/usr/bin/env bash
# build.sh builds the Kubernetes binaries the e2e tests run from the Go module
# proxy, pinned by this directory's go.mod and go.sum.
#
#   build.sh          etcd and kube-apiserver (envtest: e2e/framework)
#   build.sh node     the above, plus kubelet, kube-proxy, kube-controller-manager,
#                     kube-scheduler and kubectl (the nodes of e2e/clusters), in
#                     one `go build` so that they share compiled packages
#
# Output: ${MESHFED_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/k8s-v1.37.2}/
# Each set is skipped when its stamp file there (.stamp, .stamp-node) matches a
# hash of go.mod, go.sum, this script and `go version`. The last line printed
# is the directory, ready for KUBEBUILDER_ASSETS.
set -euo pipefail

K8S_VERSION=v1.37.2
set_name="${1:-envtest}"
case "${set_name}" in
  envtest | node) ;;
  *) echo "usage: build.sh [envtest|node]" >&2; exit 2 ;;
esac
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

# Stamp the version the apiserver reports on /version, as the release does.
version_pkg=k8s.io/component-base/version
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
ldflags+=" -X ${version_pkg}.gitVersion=${K8S_VERSION}"
ldflags+=" -X ${version_pkg}.gitMajor=1"
ldflags+=" -X ${version_pkg}.gitMinor=${minor}"
ldflags+=" -X ${version_pkg}.gitTreeState=clean"

# up_to_date STAMP BINARY... succeeds when STAMP holds ${want} and every BINARY is there.
up_to_date() {
  local stamp_file="$1"
  shift
  [[ -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${want}" ]] || return 1
  local b
  for b in "$@"; do
    [[ -x "${out}/${b}" ]] || return 1
  done
}

# start_build makes the scratch directory the binaries are built into, removed on exit.
start_build() {
  mkdir -p "${out}"
  tmp="$(mktemp -d "${out}/.build.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  echo "downloading modules" >&2
  go mod download
}

if [[ "${set_name}" == node ]]; then
  # kube-apiserver comes from the envtest set: build (or reuse) it first.
  bash "${here}/build.sh" envtest >/dev/null
  node_bins=(kubelet kube-proxy kube-controller-manager kube-scheduler kubectl)
  if up_to_date "${out}/.stamp-node" "${node_bins[@]}"; then
    echo "node binaries up to date in ${out}" >&2
    echo "${out}"
    exit 0
  fi
  start_build
  pkgs=()
  for b in "${node_bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  echo "building ${node_bins[*]}" >&2
  time go build -trimpath -ldflags="${ldflags}" -o "${tmp}/" "${pkgs[@]}"
  for b in "${node_bins[@]}"; do mv -f "${tmp}/${b}" "${out}/${b}"; done
  echo "${want}" > "${out}/.stamp-node"
  ls -l "${out}" >&2
  echo "${out}"
  exit 0
fi

if up_to_date "${stamp}" kube-apiserver etcd; then
  echo "tools up to date in ${out}" >&2
  echo "${out}"
  exit 0
fi
start_build

echo "building etcd" >&2
time go build -trimpath -ldflags="-s -w" -o "${tmp}/etcd" go.etcd.io/etcd/server/v3
echo "building kube-apiserver" >&2
time go build -trimpath -ldflags="${ldflags}" -o "${tmp}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver

mv -f "${tmp}/etcd" "${out}/etcd"
mv -f "${tmp}/kube-apiserver" "${out}/kube-apiserver"
echo "${want}" > "${stamp}"
ls -l "${out}" >&2
echo "${out}"
