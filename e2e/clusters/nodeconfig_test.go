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

// TestNodeFilesCertificates checks that every certificate chains to the cluster's CA with the
// identity the API server authorizes (Node authorizer, RBAC's system: users) and that the API
// server's names cover every address it is reached at.
func TestNodeFilesCertificates(t *testing.T) {
	topo, err := NewTopology("mf", 3, 30)
	if err != nil {
		t.Fatal(err)
	}
	c := &topo.Clusters[2]
	now := time.Now()
	files, err := nodeFiles(c, &Artifacts{PauseImage: "meshfed-pause:x"}, now)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, files["node/pki/ca.crt"]))
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
