#!/bin/bash
# The node's entrypoint: prepares the container to host a kubelet (writable cgroups and network
# sysctls, shared mounts, the host-wide sysctls kubelet checks shown with the values it expects),
# sets up the pod network, then runs containerd, etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet and kube-proxy, each restarted if it exits. A worker node
# (NODE_ROLE=worker) runs containerd, kubelet and kube-proxy only, joining the control-plane
# node's API server. Its configuration is in /etc/kubernetes (rendered by e2e/clusters); logs go
# to /var/log/meshfed/<component>.log.
#
# `meshfed-node stop NAME` stops one component and keeps it stopped; `meshfed-node start NAME`
# lets it run again.
set -euo pipefail

state=/run/meshfed
bin=/opt/meshfed/bin
logs=/var/log/meshfed

log() { echo "$(date -u +%FT%TZ) meshfed-node: $*"; }

if [[ "${1:-}" == stop || "${1:-}" == start ]]; then
  name="${2:?component name}"
  if [[ "$1" == stop ]]; then
    touch "${state}/stopped/${name}"
    pkill -x "${name}" || true
  else
    rm -f "${state}/stopped/${name}"
  fi
  exit 0
fi

# shellcheck source=/dev/null
source /etc/kubernetes/node.env

# Docker mounts /sys, the cgroup hierarchies and /proc/sys read-only. The cgroups (a private
# cgroup namespace) and the network sysctls (a network namespace of its own) belong to this node.
prepare_kernel() {
  mount -o remount,rw /sys
  mount -o remount,rw /sys/fs/cgroup
  local d
  for d in /sys/fs/cgroup/*; do
    # Only the mount's own flag is read-only: a bind remount clears it.
    mount -o remount,bind,rw "${d}"
  done
  mount --bind /proc/sys/net /proc/sys/net
  mount -o remount,bind,rw /proc/sys/net
  mount --make-rshared /
}

# kubelet checks (and would write) these host-wide settings; bind a file with the value it
# expects over each one that differs, so that nothing on the host changes.
show_kubelet_sysctls() {
  mkdir -p "${state}/sysctl"
  local kv key want path
  for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
    kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
    key="${kv%%=*}" want="${kv#*=}" path="/proc/sys/${kv%%=*}"
    if [[ "$(cat "${path}")" != "${want}" ]]; then
      echo "${want}" >"${state}/sysctl/${key//\//.}"
      mount --bind "${state}/sysctl/${key//\//.}" "${path}"
    fi
  done
}

# Pods reach the pods of the other nodes on this network, of this cluster and of the others,
# directly (a route to each node's pod CIDR through that node, no address translation); anything else in 10.0.0.0/8 is unreachable, so that no packet
# for another network's pods or services leaves the node. Pod traffic to anywhere else (node
# addresses on the transit network) is masqueraded behind the node.
prepare_network() {
  sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.route_localnet=1
  modprobe br_netfilter 2>/dev/null || true
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
    sysctl -qw net.bridge.bridge-nf-call-iptables=1
  fi
  ip route replace unreachable 10.0.0.0/8
  local r
  for r in ${PEER_ROUTES}; do
    ip route replace "${r%%=*}" via "${r#*=}"
  done
  iptables -t nat -C POSTROUTING -s "${POD_CIDR}" ! -d 10.0.0.0/8 -j MASQUERADE 2>/dev/null ||
    iptables -t nat -A POSTROUTING -s "${POD_CIDR}" ! -d 10.0.0.0/8 -j MASQUERADE
  mkdir -p /etc/cni/net.d
  cp /etc/kubernetes/cni.conflist /etc/cni/net.d/10-meshfed.conflist
  # Directories of the node's local PersistentVolumes (e2e/clusters creates their objects).
  mkdir -p /var/lib/meshfed-volumes/pv-{1..4}
}

# run NAME CMD... runs CMD in the background, again whenever it exits, unless NAME is stopped.
run() {
  local name="$1"
  shift
  (
    while :; do
      if [[ ! -e "${state}/stopped/${name}" ]]; then
        "$@" >>"${logs}/${name}.log" 2>&1 || true
        log "${name} exited"
      fi
      sleep 1
    done
  ) &
}

wait_for() {
  local what="$1"
  shift
  local i
  for i in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "${what} did not come up"
  return 1
}

mkdir -p "${state}/stopped" "${logs}"
prepare_kernel
show_kubelet_sysctls
prepare_network

pki=/etc/kubernetes/pki
run containerd containerd --config /etc/kubernetes/containerd.toml
if [[ "${NODE_ROLE}" != worker ]]; then
  run etcd "${bin}/etcd" --name "${NODE_NAME}" --data-dir /var/lib/etcd \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "${NODE_NAME}=http://127.0.0.1:2380" --log-level warn
  run kube-apiserver "${bin}/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "${NODE_IP}" \
    --service-cluster-ip-range "${SERVICE_CIDR}" \
    --tls-cert-file "${pki}/apiserver.crt" --tls-private-key-file "${pki}/apiserver.key" \
    --client-ca-file "${pki}/ca.crt" \
    --kubelet-client-certificate "${pki}/apiserver-kubelet-client.crt" \
    --kubelet-client-key "${pki}/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "${pki}/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "${pki}/sa.pub" --service-account-signing-key-file "${pki}/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false
  wait_for kube-apiserver "${bin}/kubectl" --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz
  run kube-controller-manager "${bin}/kube-controller-manager" \
    --kubeconfig /etc/kubernetes/controller-manager.conf \
    --authentication-kubeconfig /etc/kubernetes/controller-manager.conf \
    --authorization-kubeconfig /etc/kubernetes/controller-manager.conf \
    --service-account-private-key-file "${pki}/sa.key" --root-ca-file "${pki}/ca.crt" \
    --use-service-account-credentials --cluster-name "${CLUSTER_NAME}" \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false
  run kube-scheduler "${bin}/kube-scheduler" --kubeconfig /etc/kubernetes/scheduler.conf \
    --authentication-kubeconfig /etc/kubernetes/scheduler.conf \
    --authorization-kubeconfig /etc/kubernetes/scheduler.conf \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false
fi
wait_for containerd ctr version
run kubelet "${bin}/kubelet" --config /etc/kubernetes/kubelet.yaml \
  --kubeconfig /etc/kubernetes/kubelet.conf --hostname-override "${NODE_NAME}" \
  --node-ip "${NODE_IP}" --node-labels "${NODE_LABELS}" \
  ${NODE_TAINTS:+--register-with-taints "${NODE_TAINTS}"}
run kube-proxy "${bin}/kube-proxy" --config /etc/kubernetes/kube-proxy.yaml
log "started"
trap 'log "stopping"; kill 0' TERM INT
wait
