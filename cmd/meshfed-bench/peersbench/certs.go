package peersbench

import (
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/hbone/identity"
)

// peerTLSName is the DNS name in the TLS peers' certificate, which each side verifies of
// the other (nginx's proxy_ssl_name, HAProxy's verifyhost), as each waypoint verifies the
// other's SPIFFE ID.
const peerTLSName = "peers-tls.bench"

// peerServiceAccount names the TLS peers' workload in their certificate's SPIFFE ID.
const peerServiceAccount = "peers-tls"

// tlsFiles are the PEM files of the TLS peers' hop: a certificate and its key, both also in
// one file (HAProxy's crt), and the root that issued it, which each side trusts.
type tlsFiles struct {
	Cert, Key, Bundle, CA string
}

// issuePeerCertificates writes into dir, from a throwaway root of their own, the certificate
// both processes of every TLS peer present to each other: ECDSA P-256, for client and server
// authentication, built as the waypoints' (identity.CA.Issue), with peerTLSName as a DNS SAN.
func issuePeerCertificates(dir string) (tlsFiles, error) {
	ca, err := identity.NewRootCA(benchmesh.TrustDomain, 24*time.Hour)
	if err != nil {
		return tlsFiles{}, err
	}
	id, err := identity.WorkloadID(benchmesh.TrustDomain, benchmesh.Namespace, peerServiceAccount)
	if err != nil {
		return tlsFiles{}, err
	}
	issued, err := ca.Issue(identity.Workload{ID: id}, 24*time.Hour, peerTLSName)
	if err != nil {
		return tlsFiles{}, err
	}
	if err := identity.WriteFiles(dir, issued, ca.CertPEM()); err != nil {
		return tlsFiles{}, err
	}
	f := tlsFiles{
		Cert: filepath.Join(dir, identity.CertFileName), Key: filepath.Join(dir, identity.KeyFileName),
		Bundle: filepath.Join(dir, "tls.pem"), CA: filepath.Join(dir, identity.CAFileName),
	}
	bundle := slices.Concat(issued.CertPEM, issued.KeyPEM)
	return f, os.WriteFile(f.Bundle, bundle, 0o600)
}

// paths are the files, for validation.
func (f tlsFiles) paths() []string { return []string{f.Cert, f.Key, f.Bundle, f.CA} }
