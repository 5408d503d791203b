package clusters

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM block in %q", data)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// renderNodeFiles renders the files of cluster i (from 1) of a default set of 3, and returns the
// pool of its CA and the time the certificates were issued at.
func renderNodeFiles(t *testing.T, i int) (*Cluster, map[string][]byte, *x509.CertPool, time.Time) {
	t.Helper()
	topo, err := NewTopology("mf", 3, 30, DefaultWorkers)
	if err != nil {
		t.Fatal(err)
	}
	c := &topo.Clusters[i-1]
	now := time.Now()
	files, err := nodeFiles(c, &Artifacts{PauseImage: "meshfed-pause:x"}, now)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, files["node/pki/ca.crt"]))
	return c, files, roots, now
}

// TestNodeFilesCertificates checks that every certificate chains to the cluster's CA with the
// identity the API server authorizes (Node authorizer, RBAC's system: users) and that the API
// server's names cover every address it is reached at.
func TestNodeFilesCertificates(t *testing.T) {
	c, files, roots, now := renderNodeFiles(t, 3)
	verify := func(name string, usage x509.ExtKeyUsage) *x509.Certificate {
		cert := parseCert(t, files[name])
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return cert
	}
	api := verify("node/pki/apiserver.crt", x509.ExtKeyUsageServerAuth)
	for _, ip := range []string{c.TransitIP.String(), c.NodeIP.String(), c.APIServerIP.String(), "127.0.0.1"} {
		if !slices.ContainsFunc(api.IPAddresses, func(a net.IP) bool { return a.String() == ip }) {
			t.Errorf("API server certificate lacks IP %s: %v", ip, api.IPAddresses)
		}
	}
	if !slices.Contains(api.DNSNames, "kubernetes.default.svc") {
		t.Errorf("API server certificate lacks kubernetes.default.svc: %v", api.DNSNames)
	}
	verify("node/pki/kubelet.crt", x509.ExtKeyUsageServerAuth)
	client := verify("node/pki/apiserver-kubelet-client.crt", x509.ExtKeyUsageClientAuth)
	if !slices.Contains(client.Subject.Organization, "system:masters") {
		t.Errorf("kubelet client of the API server: %v", client.Subject)
	}
	for name, want := range map[string]string{
		"node/kubelet.conf":            "system:node:" + c.NodeName,
		"node/kube-proxy.conf":         "system:kube-proxy",
		"node/scheduler.conf":          "system:kube-scheduler",
		"node/controller-manager.conf": "system:kube-controller-manager",
		"kubeconfig":                   "kubernetes-admin",
	} {
		_, rest, ok := strings.Cut(string(files[name]), "client-certificate-data: ")
		b64, _, _ := strings.Cut(rest, "\n")
		der, err := base64.StdEncoding.DecodeString(b64)
		if !ok || err != nil {
			t.Fatalf("%s: no client certificate: %v", name, err)
		}
		if cert := parseCert(t, der); cert.Subject.CommonName != want {
			t.Errorf("%s: user %s, want %s", name, cert.Subject.CommonName, want)
		}
	}
	if !strings.Contains(string(files["kubeconfig"]), "server: "+c.APIServerURL()) {
		t.Errorf("host kubeconfig does not point at %s", c.APIServerURL())
	}
	if !strings.Contains(string(files["node/containerd.toml"]), `sandbox_image = "meshfed-pause:x"`) {
		t.Errorf("containerd config does not use the pause image:\n%s", files["node/containerd.toml"])
	}
	if !strings.Contains(string(files["node/node.env"]), "PEER_ROUTES=\"\"") {
		t.Errorf("cluster 3 (network B) has peer routes:\n%s", files["node/node.env"])
	}
}

// TestNodeFilesWorkers checks that a worker gets the cluster's CA but not its key nor the control
// plane's, a kubelet identity of its own node (the Node authorizer lets it change that node
// only), kubeconfigs pointing at the control-plane node, and its labels, taints and pod slice.
func TestNodeFilesWorkers(t *testing.T) {
	c, files, roots, now := renderNodeFiles(t, 1)
	gw := &c.Nodes[2]
	dir := gw.Dir + "/"
	var names []string
	for name := range files {
		if strings.HasPrefix(name, dir) {
			names = append(names, strings.TrimPrefix(name, dir))
		}
	}
	slices.Sort(names)
	wantNames := []string{"cni.conflist", "containerd.toml", "kube-proxy.conf", "kube-proxy.yaml", "kubelet.conf",
		"kubelet.yaml", "node.env", "pki/ca.crt", "pki/kubelet.crt", "pki/kubelet.key"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("%s has %v, want %v", gw.Name, names, wantNames)
	}
	serving := parseCert(t, files[dir+"pki/kubelet.crt"])
	if _, err := serving.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, CurrentTime: now}); err != nil {
		t.Errorf("%s serving certificate: %v", gw.Name, err)
	}
	if !slices.ContainsFunc(serving.IPAddresses, func(a net.IP) bool { return a.String() == gw.IP.String() }) {
		t.Errorf("%s serving certificate lacks %s: %v", gw.Name, gw.IP, serving.IPAddresses)
	}
	for name, want := range map[string]string{"kubelet.conf": "system:node:" + gw.Name, "kube-proxy.conf": "system:kube-proxy"} {
		conf := string(files[dir+name])
		if !strings.Contains(conf, "server: https://"+c.NodeIP.String()+":6443\n") {
			t.Errorf("%s %s does not point at the control-plane node %s", gw.Name, name, c.NodeIP)
		}
		_, rest, _ := strings.Cut(conf, "client-certificate-data: ")
		b64, _, _ := strings.Cut(rest, "\n")
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		cert := parseCert(t, der)
		if cert.Subject.CommonName != want {
			t.Errorf("%s %s: user %s, want %s", gw.Name, name, cert.Subject.CommonName, want)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: now}); err != nil {
			t.Errorf("%s %s: %v", gw.Name, name, err)
		}
	}
	env := string(files[dir+"node.env"])
	for _, want := range []string{"NODE_ROLE=worker\n", "NODE_NAME=" + gw.Name + "\n", "POD_CIDR=10.11.2.0/24\n",
		"NODE_LABELS=topology.kubernetes.io/region=region-a,topology.kubernetes.io/zone=zone-a1," + GatewayLabel + "\n",
		"NODE_TAINTS=" + GatewayTaint + "\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("%s node.env lacks %q:\n%s", gw.Name, want, env)
		}
	}
	if !strings.Contains(string(files[dir+"cni.conflist"]), `"subnet": "10.11.2.0/24"`) {
		t.Errorf("%s CNI configuration does not use its slice:\n%s", gw.Name, files[dir+"cni.conflist"])
	}
	if !strings.Contains(string(files["node/node.env"]), "NODE_ROLE=control-plane\n") {
		t.Errorf("the control-plane node's node.env:\n%s", files["node/node.env"])
	}
}
