package clusters

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// The external etcd of the highly available hub, where deploy/hub expects it: the Service
// meshfed-etcd in meshfed-system, port 2379.
const (
	EtcdNamespace = "meshfed-system"
	EtcdService   = "meshfed-etcd"
	EtcdPort      = 2379
)

var (
	//go:embed manifests/etcd.yaml
	etcdYAML     string
	etcdTemplate = template.Must(template.New("etcd").Parse(etcdYAML))
)

// EtcdPKI is the certificate authority of an external etcd: it issues the etcd's serving
// certificate and its clients' certificates. etcd (--client-cert-auth) takes a client's user
// from its certificate's Common Name.
type EtcdPKI struct {
	ca  *authority
	now time.Time
}

// NewEtcdPKI creates an etcd's CA.
func NewEtcdPKI() (*EtcdPKI, error) {
	now := time.Now()
	ca, err := newAuthority(EtcdService+"-ca", now)
	if err != nil {
		return nil, err
	}
	return &EtcdPKI{ca: ca, now: now}, nil
}

// CA is the CA's certificate (PEM), which verifies the etcd and its clients.
func (p *EtcdPKI) CA() []byte { return p.ca.pem }

// ClientCert issues a client certificate and key (PEM) for etcd user user.
func (p *EtcdPKI) ClientCert(user string) (cert, key []byte, err error) {
	kp, err := p.ca.issue(certRequest{CN: user, Client: true}, p.now)
	return kp.Cert, kp.Key, err
}

// EtcdManifests renders a single-member etcd running image in cluster c (manifests/etcd.yaml):
// its serving certificate, issued by p for the Service's names, the pod's loopback and c's
// transit address (where the Service's NodePort is reached from the host and other clusters),
// the Service and a StatefulSet.
func (p *EtcdPKI) EtcdManifests(c *Cluster, image string) ([]byte, error) {
	svc := EtcdService + "." + EtcdNamespace + ".svc"
	kp, err := p.ca.issue(certRequest{
		CN:  EtcdService,
		DNS: []string{EtcdService, EtcdService + "." + EtcdNamespace, svc, svc + ".cluster.local", "localhost"},
		IPs: ips(c.TransitIP, netip.AddrFrom4([4]byte{127, 0, 0, 1})),
		// Client too: etcd's gRPC gateway dials the server with the serving certificate.
		Server: true, Client: true,
	}, p.now)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString
	return render(etcdTemplate, struct{ Namespace, Image, Cert, Key, CA string }{
		EtcdNamespace, image, b64(kp.Cert), b64(kp.Key), b64(p.ca.pem),
	})
}

// TLSSecret is a Secret ns/name of type kubernetes.io/tls holding cert, key and the CA that
// verifies the server (tls.crt, tls.key, ca.crt), e.g. deploy/hub's meshfed-etcd-client.
func TLSSecret(ns, name string, ca, cert, key []byte) string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: %s
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
  ca.crt: %s
`, name, ns, b64(cert), b64(key), b64(ca))
}

// EtcdImage builds, once per etcd binary, the image meshfed-etcd:<hash of the binary>: the
// static etcd that e2e/tools/build.sh builds (in K8sBinDir, next to the node's binaries) alone
// on an empty base, run as user 65532, as deploy/images/build.sh builds meshfed's images. It
// returns the image's name; LoadImagesInto copies it into a node.
func (s *Set) EtcdImage(ctx context.Context) (string, error) {
	bin := filepath.Join(s.Artifacts.K8sBinDir, "etcd")
	f, err := os.Open(bin)
	if err != nil {
		return "", fmt.Errorf("failed to open the etcd binary (bash e2e/tools/build.sh builds it): %w", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("failed to read the etcd binary %s: %w", bin, err)
	}
	image := "meshfed-etcd:" + hex.EncodeToString(h.Sum(nil))[:12]
	if _, err := docker(ctx, nil, "image", "inspect", image); err == nil {
		return image, nil
	}
	dir, err := os.MkdirTemp("", "meshfed-etcd-image")
	if err != nil {
		return "", fmt.Errorf("failed to make the build context of %s: %w", image, err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := copyFile(bin, filepath.Join(dir, "etcd")); err != nil {
		return "", err
	}
	dockerfile := "FROM scratch\nCOPY etcd /etcd\nUSER 65532:65532\nENTRYPOINT [\"/etcd\"]\n"
	if _, err := docker(ctx, strings.NewReader(dockerfile), "build", "--quiet", "-t", image, "-f", "-", dir); err != nil {
		return "", fmt.Errorf("failed to build %s: %w", image, err)
	}
	return image, nil
}

// copyFile copies the executable src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", src, err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("failed to copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}
