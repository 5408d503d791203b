package clusters

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// nodeFiles renders everything a cluster's nodes read from /etc/kubernetes (certificates,
// kubeconfigs, component configurations, the CNI configuration and node.env for the entrypoint),
// plus the host's admin kubeconfig, keyed by path relative to the cluster's state directory:
// node/ for the control-plane node, node-<name>/ for each worker (workerFiles).
func nodeFiles(c *Cluster, a *Artifacts, now time.Time) (map[string][]byte, error) {
	ca, err := newAuthority(c.Name+"-ca", now)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"node/pki/ca.crt": ca.pem}
	local := "https://" + netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), apiServerPort).String()
	leaves := []struct {
		file       string
		req        certRequest
		kubeconfig string // when set, a kubeconfig with this certificate instead of files
		server     string
	}{
		{file: "node/pki/apiserver", req: certRequest{CN: "kube-apiserver", Server: true,
			DNS: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc",
				"kubernetes.default.svc.cluster.local", "localhost", c.Container, c.NodeName},
			IPs: ips(c.APIServerIP, c.NodeIP, c.TransitIP, netip.AddrFrom4([4]byte{127, 0, 0, 1}))}},
		{file: "node/pki/apiserver-kubelet-client", req: certRequest{CN: "kube-apiserver-kubelet-client",
			Orgs: []string{"system:masters"}, Client: true}},
		{file: "node/pki/kubelet", req: certRequest{CN: c.NodeName, Server: true,
			DNS: []string{c.NodeName, "localhost"}, IPs: ips(c.NodeIP, c.TransitIP, netip.AddrFrom4([4]byte{127, 0, 0, 1}))}},
		{kubeconfig: "node/admin.conf", server: local, req: certRequest{CN: "kubernetes-admin", Orgs: []string{"system:masters"}, Client: true}},
		{kubeconfig: "node/controller-manager.conf", server: local, req: certRequest{CN: "system:kube-controller-manager", Client: true}},
		{kubeconfig: "node/scheduler.conf", server: local, req: certRequest{CN: "system:kube-scheduler", Client: true}},
		{kubeconfig: "node/kubelet.conf", server: local, req: certRequest{CN: "system:node:" + c.NodeName, Orgs: []string{"system:nodes"}, Client: true}},
		{kubeconfig: "node/kube-proxy.conf", server: local, req: certRequest{CN: "system:kube-proxy", Client: true}},
		{kubeconfig: "kubeconfig", server: c.APIServerURL(), req: certRequest{CN: "kubernetes-admin", Orgs: []string{"system:masters"}, Client: true}},
	}
	for _, l := range leaves {
		kp, err := ca.issue(l.req, now)
		if err != nil {
			return nil, err
		}
		if l.kubeconfig != "" {
			files[l.kubeconfig] = kubeconfig(c.Name, l.server, ca.pem, kp)
			continue
		}
		files[l.file+".crt"], files[l.file+".key"] = kp.Cert, kp.Key
	}
	files["node/pki/sa.pub"], files["node/pki/sa.key"], err = serviceAccountKey()
	if err != nil {
		return nil, err
	}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.Worker {
			if err := workerFiles(files, c, n, ca, now); err != nil {
				return nil, err
			}
		}
		files[n.Dir+"/kubelet.yaml"] = kubeletConfig(c)
		files[n.Dir+"/kube-proxy.yaml"] = kubeProxyConfig(c, n)
		files[n.Dir+"/cni.conflist"] = cniConfig(n)
		files[n.Dir+"/node.env"] = nodeEnv(c, n)
		if files[n.Dir+"/containerd.toml"], err = render(containerdTemplate, a); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// workerFiles adds what worker node n needs beyond the configurations every node has: the
// cluster's CA certificate (not its key), the kubelet's serving certificate, and the kubelet's
// and kube-proxy's kubeconfigs, whose server is the control-plane node's address on the
// cluster's network.
func workerFiles(files map[string][]byte, c *Cluster, n *Node, ca *authority, now time.Time) error {
	files[n.Dir+"/pki/ca.crt"] = ca.pem
	server := "https://" + netip.AddrPortFrom(c.NodeIP, apiServerPort).String()
	serving, err := ca.issue(certRequest{CN: n.Name, Server: true, DNS: []string{n.Name, "localhost"},
		IPs: ips(n.IP, n.TransitIP, netip.AddrFrom4([4]byte{127, 0, 0, 1}))}, now)
	if err != nil {
		return err
	}
	files[n.Dir+"/pki/kubelet.crt"], files[n.Dir+"/pki/kubelet.key"] = serving.Cert, serving.Key
	for file, req := range map[string]certRequest{
		"kubelet.conf":    {CN: "system:node:" + n.Name, Orgs: []string{"system:nodes"}, Client: true},
		"kube-proxy.conf": {CN: "system:kube-proxy", Client: true},
	} {
		kp, err := ca.issue(req, now)
		if err != nil {
			return err
		}
		files[n.Dir+"/"+file] = kubeconfig(c.Name, server, ca.pem, kp)
	}
	return nil
}

func ips(addrs ...netip.Addr) []net.IP {
	out := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, net.IP(a.AsSlice()))
	}
	return out
}

// kubeconfig is a kubeconfig for one cluster and one user, certificates inline.
func kubeconfig(cluster, server string, caPEM []byte, kp keyPair) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s
  user:
    client-certificate-data: %[4]s
    client-key-data: %[5]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s
current-context: %[1]s
`, cluster, server, b64(caPEM), b64(kp.Cert), b64(kp.Key))
}

// kubeletConfig runs kubelet on cgroup v1 with cgroupfs (no systemd in the node) and leaves the
// host-wide kernel settings alone (the entrypoint shows kubelet the values it expects). Eviction
// thresholds are low: the node shares the host's disk and memory with other nodes.
func kubeletConfig(c *Cluster) []byte {
	return fmt.Appendf(nil, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
tlsCertFile: /etc/kubernetes/pki/kubelet.crt
tlsPrivateKeyFile: /etc/kubernetes/pki/kubelet.key
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
clusterDNS: [%s]
clusterDomain: cluster.local
resolvConf: ""
protectKernelDefaults: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
serializeImagePulls: false
`, c.DNSIP)
}

// kubeProxyConfig is iptables mode; conntrack settings stay as they are, since they are the
// host's and not the node's.
func kubeProxyConfig(c *Cluster, n *Node) []byte {
	return fmt.Appendf(nil, `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: /etc/kubernetes/kube-proxy.conf
mode: iptables
clusterCIDR: %s
hostnameOverride: %s
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, c.PodCIDR, n.Name)
}

// cniConfig is a bridge with the node's slice of the pod CIDR. It does not masquerade: the
// entrypoint masquerades only what leaves 10.0.0.0/8, so that pods on network A keep their
// addresses to each other.
func cniConfig(n *Node) []byte {
	return fmt.Appendf(nil, `{
  "cniVersion": "1.0.0",
  "name": "meshfed",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "%s"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, n.PodCIDR)
}

// nodeEnv is what the entrypoint needs to know about node n of cluster c, as shell assignments.
func nodeEnv(c *Cluster, n *Node) []byte {
	role := "control-plane"
	if n.Worker {
		role = "worker"
	}
	var routes []string
	for _, r := range n.Routes {
		routes = append(routes, r.Dst.String()+"="+r.Via.String())
	}
	labels := append([]string{"topology.kubernetes.io/region=" + c.Region, "topology.kubernetes.io/zone=" + c.Zone}, n.Labels...)
	return fmt.Appendf(nil, `CLUSTER_NAME=%s
NODE_ROLE=%s
NODE_NAME=%s
NODE_IP=%s
TRANSIT_IP=%s
POD_CIDR=%s
SERVICE_CIDR=%s
NODE_LABELS=%s
NODE_TAINTS=%s
PEER_ROUTES="%s"
`, c.Name, role, n.Name, n.IP, n.TransitIP, n.PodCIDR, c.ServiceCIDR, strings.Join(labels, ","),
		strings.Join(n.Taints, ","), strings.Join(routes, " "))
}
