package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrNoPeerCertificate is returned when a peer presents no certificate.
var ErrNoPeerCertificate = errors.New("peer presented no certificate")

// ErrRejected is wrapped by every error with which ServerConfig and ClientConfig refuse a
// peer's certificate, so that a caller can tell an impostor from a network fault whatever
// the transport made of the error.
var ErrRejected = errors.New("peer certificate rejected")

// MismatchError reports a verified peer that is not the workload expected.
type MismatchError struct {
	// Want is the expected workload (for a trust-domain check, an ID holding only the domain).
	Want Workload
	// Got is the workload the peer's certificate names.
	Got Workload
}

// Error implements error.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("peer identity %s does not match expected %s", e.Got, e.Want)
}

// VerifyChain verifies a peer's DER chain against roots for usage (x509.ExtKeyUsageClientAuth
// for a client, x509.ExtKeyUsageServerAuth for a server) and returns the workload the leaf
// names, whose SPIFFE ID must belong to trustDomain. A leaf (or intermediate) whose extended
// key usage excludes usage is refused; one without the extension is valid for any usage, as
// RFC 5280 says.
func VerifyChain(rawCerts [][]byte, roots *x509.CertPool, trustDomain string, usage x509.ExtKeyUsage) (Workload, error) {
	if len(rawCerts) == 0 {
		return Workload{}, ErrNoPeerCertificate
	}
	certs := make([]*x509.Certificate, 0, len(rawCerts))
	for _, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return Workload{}, fmt.Errorf("failed to parse peer certificate %d: %w", len(certs), err)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}
	if _, err := certs[0].Verify(opts); err != nil {
		return Workload{}, fmt.Errorf("failed to verify peer certificate %s: %w", certs[0].Subject, err)
	}
	w, err := WorkloadOf(certs[0])
	if err != nil {
		return Workload{}, err
	}
	if w.ID.TrustDomain() != trustDomain {
		return Workload{}, &MismatchError{Want: Workload{ID: ID{trustDomain: trustDomain}}, Got: w}
	}
	return w, nil
}

// ServerConfig returns a TLS 1.3 server configuration that presents src's current certificate
// and requires a client certificate for client authentication chaining to src's roots within
// the workload's trust domain. Each handshake reads src anew, so rotated files apply to new
// connections only. Session tickets are off: every connection presents and verifies a full
// chain, so a rotation of roots applies to every new connection.
func ServerConfig(src Source, nextProtos []string) *tls.Config {
	base := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: nextProtos, SessionTicketsDisabled: true}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		m := src.Material()
		return &tls.Config{
			MinVersion:             tls.VersionTLS13,
			NextProtos:             nextProtos,
			SessionTicketsDisabled: true,
			Certificates:           []tls.Certificate{m.Certificate},
			ClientAuth:             tls.RequireAnyClientCert,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if _, err := VerifyChain(rawChain(cs.PeerCertificates), m.Roots, m.ID.TrustDomain(), x509.ExtKeyUsageClientAuth); err != nil {
					return fmt.Errorf("%w: %w", ErrRejected, err)
				}
				return nil
			},
		}, nil
	}
	return base
}

// ClientConfig returns a TLS 1.3 client configuration that presents src's current certificate
// and accepts only a server whose certificate, for server authentication, chains to src's
// roots and names want (see Workload for what a zero ID or an empty cluster accepts).
func ClientConfig(src Source, want Workload, nextProtos []string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: nextProtos,
		// Verification is by SPIFFE ID in VerifyConnection, not by host name.
		InsecureSkipVerify: true, //nolint:gosec // replaced by VerifyConnection below
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			m := src.Material()
			return &m.Certificate, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			m := src.Material()
			got, err := VerifyChain(rawChain(cs.PeerCertificates), m.Roots, m.ID.TrustDomain(), x509.ExtKeyUsageServerAuth)
			if err == nil && !want.matches(got) {
				err = &MismatchError{Want: want, Got: got}
			}
			if err != nil {
				return fmt.Errorf("%w: %w", ErrRejected, err)
			}
			return nil
		},
	}
}

// matches reports whether got is a workload w accepts.
func (w Workload) matches(got Workload) bool {
	return (w.ID.IsZero() || got.ID == w.ID) && (w.Cluster == "" || got.Cluster == w.Cluster)
}

// Peer returns the workload of the verified peer of a completed handshake.
func Peer(cs *tls.ConnectionState) (Workload, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return Workload{}, ErrNoPeerCertificate
	}
	return WorkloadOf(cs.PeerCertificates[0])
}

func rawChain(certs []*x509.Certificate) [][]byte {
	raw := make([][]byte, len(certs))
	for i, c := range certs {
		raw[i] = c.Raw
	}
	return raw
}
