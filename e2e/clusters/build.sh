#!/usr/bin/env bash
# build.sh builds (or finds in the caches) everything the clusters of e2e/clusters run, and prints
# it as KEY=VALUE lines for the Go harness:
#   K8S_BIN_DIR    kubelet, kube-proxy, kube-apiserver, ... (e2e/tools/build.sh node)
#   NODE_IMAGE     the node image: node/rootfs.sh's Debian root filesystem + node/Dockerfile
#   PAUSE_IMAGE, COREDNS_IMAGE, ECHO_IMAGE   images/*, built by deploy/images/build.sh
# Every step is skipped when its result is already cached; the image tags are hashes of what they
# are built from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# The root filesystem downloads while the Kubernetes binaries compile.
bash "${here}/node/rootfs.sh" >"${work}/rootfs.out" 2>"${work}/rootfs.err" &
rootfs_pid=$!
k8s_dir="$(bash "${root}/e2e/tools/build.sh" node | tail -n1)"
if ! wait "${rootfs_pid}"; then
  cat "${work}/rootfs.err" >&2
  exit 1
fi
cat "${work}/rootfs.err" >&2
rootfs="$(tail -n1 "${work}/rootfs.out")"

hash_of() { sha256sum | cut -c1-12; }

node_image="meshfed-node:$({ echo "${rootfs}"; cat "${here}"/node/{Dockerfile,entrypoint.sh}; } | hash_of)"
if ! docker image inspect "${node_image}" >/dev/null 2>&1; then
  echo "building ${node_image}" >&2
  docker build --quiet --build-arg ROOTFS="${rootfs}" -t "${node_image}" "${here}/node" >/dev/null
fi

images=()
for name in pause coredns echo; do
  dir="${here}/images/${name}"
  tag="$({ go version; find "${dir}" -type f | LC_ALL=C sort | xargs cat; } | hash_of)"
  VERSION="${tag}" SKIP_EXISTING=1 bash "${root}/deploy/images/build.sh" "meshfed-${name}=${dir}" >/dev/null
  images+=("$(echo "${name}" | tr '[:lower:]' '[:upper:]')_IMAGE=meshfed-${name}:${tag}")
done

echo "K8S_BIN_DIR=${k8s_dir}"
echo "NODE_IMAGE=${node_image}"
printf '%s\n' "${images[@]}"
