#!/usr/bin/env bash
# run.sh runs the Kubernetes MCS API conformance suite (sigs.k8s.io/mcs-api/conformance) against
# the running clusters of `make clusters` on which meshfed is installed (go test ./e2e/clusters/
# with MESHFED_KEEP_CLUSTERS=1 leaves it so).
#
#   run.sh MCS_API_CHECKOUT [ginkgo flags...]
#
# The suite is not on the Go module proxy: MCS_API_CHECKOUT is a checkout of the mcs-api
# repository (the suite's go.mod replaces sigs.k8s.io/mcs-api with its parent directory). The
# images its pods run are built here from Debian packages under the names it expects. The JSON
# report goes to mcs-conformance.json in the current directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite="$(cd "${1:?usage: run.sh MCS_API_CHECKOUT [ginkgo flags...]}/conformance" && pwd)"
shift
prefix=meshfed
state="${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/clusters/${prefix}"
report="$(pwd)/mcs-conformance.json"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

rootfs="$(bash "${here}/../node/rootfs.sh" | tail -n1)"
docker build --quiet --build-arg ROOTFS="${rootfs}" -t meshfed-mcs-tools:dev "${here}" >/dev/null
docker tag meshfed-mcs-tools:dev alpine/socat:1.7.4.4
docker tag meshfed-mcs-tools:dev nicolaka/netshoot:v0.15

contexts=()
for kc in "${state}"/cluster-*/kubeconfig; do
  c="$(basename "$(dirname "${kc}")")"
  contexts+=("${c}")
  docker save alpine/socat:1.7.4.4 nicolaka/netshoot:v0.15 |
    docker exec -i "${prefix}-${c}" ctr --namespace k8s.io images import --snapshotter overlayfs - >/dev/null
done
KUBECONFIG="$(ls "${state}"/cluster-*/kubeconfig | paste -sd:)" \
  "$(bash "${here}/../../tools/build.sh" node | tail -n1)/kubectl" config view --flatten >"${work}/kubeconfig"

(cd "${suite}" && GOWORK=off go test -c -o "${work}/conformance.test" .)
cd "${suite}"
"${work}/conformance.test" -test.v -kubeconfig "${work}/kubeconfig" \
  -contexts "$(IFS=,; echo "${contexts[*]}")" -ginkgo.no-color \
  -ginkgo.json-report="${report}" "$@"
