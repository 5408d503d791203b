package clusters

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestEtcdManifests checks the etcd's serving certificate (verified by the CA, for the name
// deploy/hub dials and the node's transit address, server and client use), the image and
// namespace in the StatefulSet, and a client certificate naming its etcd user.
func TestEtcdManifests(t *testing.T) {
	pki, err := NewEtcdPKI()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Name: "cluster-1", TransitIP: netip.MustParseAddr("172.30.0.11")}
	out, err := pki.EtcdManifests(c, "meshfed-etcd:abc")
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(out, []byte("\n---\n"))
	if len(docs) != 3 {
		t.Fatalf("want 3 documents (Secret, Service, StatefulSet), got %d", len(docs))
	}
	var secret struct {
		Metadata struct{ Name, Namespace string }
		Data     map[string]string
	}
	if err := yaml.Unmarshal(docs[0], &secret); err != nil {
		t.Fatal(err)
	}
	if secret.Metadata.Name != "meshfed-etcd-server" || secret.Metadata.Namespace != EtcdNamespace {
		t.Errorf("Secret %s/%s", secret.Metadata.Namespace, secret.Metadata.Name)
	}
	decoded := map[string][]byte{}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if decoded[k], err = base64.StdEncoding.DecodeString(secret.Data[k]); err != nil || len(decoded[k]) == 0 {
			t.Fatalf("Secret key %s: %v", k, err)
		}
	}
	if !bytes.Equal(decoded["ca.crt"], pki.CA()) {
		t.Error("the Secret's ca.crt is not the PKI's CA")
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.CA())
	server := parseCert(t, decoded["tls.crt"])
	for _, name := range []string{"meshfed-etcd.meshfed-system.svc", "172.30.0.11", "127.0.0.1"} {
		if _, err := server.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("serving certificate for %s: %v", name, err)
		}
	}
	if _, err := server.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("serving certificate as a client (etcd's gateway): %v", err)
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "meshfed-etcd.other.svc", Roots: roots}); err == nil {
		t.Error("the serving certificate verifies for meshfed-etcd.other.svc")
	}
	if sts := string(docs[2]); !strings.Contains(sts, "image: meshfed-etcd:abc") || !strings.Contains(sts, "namespace: "+EtcdNamespace) ||
		!strings.Contains(sts, "--client-cert-auth=true") {
		t.Errorf("StatefulSet:\n%s", sts)
	}

	cert, key, err := pki.ClientCert("meshfed-hub")
	if err != nil || len(key) == 0 {
		t.Fatal(err)
	}
	client := parseCert(t, cert)
	if client.Subject.CommonName != "meshfed-hub" {
		t.Errorf("client certificate CN %q, want the etcd user meshfed-hub", client.Subject.CommonName)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("the client certificate verifies as a server's")
	}
}

func TestEtcdImageNeedsTheBinary(t *testing.T) {
	s := &Set{Artifacts: &Artifacts{K8sBinDir: t.TempDir()}}
	if _, err := s.EtcdImage(t.Context()); err == nil || !strings.Contains(err.Error(), "etcd binary") {
		t.Errorf("without an etcd binary: %v, want an error naming it", err)
	}
}

func TestKillContainerRefusesBadIDs(t *testing.T) {
	s := &Set{}
	c := &Cluster{Name: "cluster-1", Container: "none"}
	for _, id := range []string{"", "abc", strings.Repeat("g", 64), strings.Repeat("a", 63) + "\n", "--all"} {
		if err := s.KillContainer(t.Context(), c, id); err == nil || !strings.Contains(err.Error(), "not a containerd container ID") {
			t.Errorf("KillContainer(%q): %v, want a refusal", id, err)
		}
	}
}
