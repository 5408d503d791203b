#!/usr/bin/env bash
# rootfs.sh builds the node's base image: a Debian bookworm root filesystem made
# with debootstrap (containerd, runc, the CNI plugins, iptables, conntrack and
# what kubelet and kube-proxy call) and imported into the local Docker engine
# with `docker import`, since no base image can be pulled here.
#
# The Debian mirror is the one this machine's apt uses, read at run time from
# /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list
# (MESHFED_DEBIAN_MIRROR overrides it).
#
# The image is tagged meshfed-node-rootfs:<hash of this script>; when that tag
# exists, nothing is done. The last line printed is the image reference.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=bookworm
packages=(
  ca-certificates conntrack containerd containernetworking-plugins ethtool
  iproute2 iptables kmod mount procps runc socat util-linux
)

hash="$(cat "${here}/rootfs.sh" | sha256sum | cut -c1-12)"
image="meshfed-node-rootfs:${hash}"
if docker image inspect "${image}" >/dev/null 2>&1; then
  echo "node rootfs up to date: ${image}" >&2
  echo "${image}"
  exit 0
fi

# mirror prints the first Debian archive URI apt is configured with (deb822 or one-line form).
mirror() {
  if [[ -n "${MESHFED_DEBIAN_MIRROR:-}" ]]; then
    echo "${MESHFED_DEBIAN_MIRROR}"
    return
  fi
  local f=/etc/apt/sources.list.d/debian.sources
  if [[ -f "${f}" ]]; then
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "${f}"
    return
  fi
  f=/etc/apt/sources.list
  if [[ -f "${f}" ]]; then
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $i !~ /security/) { print $i; exit } }' "${f}"
  fi
}

url="$(mirror)"
if [[ -z "${url}" ]]; then
  echo "rootfs.sh: no Debian mirror found in /etc/apt (set MESHFED_DEBIAN_MIRROR)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "rootfs.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

work="$(mktemp -d /var/tmp/meshfed-rootfs.XXXXXX)"
# On tmpfs, dpkg's many fsyncs cost nothing: on a busy disk they made debootstrap take 20
# minutes instead of a few.
mount -t tmpfs -o size=2g,mode=0755 meshfed-rootfs "${work}"
trap 'umount "${work}"; rmdir "${work}"' EXIT
echo "debootstrap ${suite} from ${url}" >&2
time debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  "${suite}" "${work}/root" "${url}" >"${work}/debootstrap.log" 2>&1 || {
  tail -30 "${work}/debootstrap.log" >&2
  exit 1
}
# Keep the image small: package caches, lists and docs are of no use on a node.
rm -rf "${work}/root/var/cache/apt/archives/"*.deb "${work}/root/var/lib/apt/lists/"* \
  "${work}/root/usr/share/doc" "${work}/root/usr/share/man" "${work}/root/usr/share/locale"
tar -C "${work}/root" --numeric-owner -c . | docker import - "${image}" >/dev/null
docker image ls "${image}" >&2
echo "${image}"
