package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrNoPeerCertificate is returned when a peer presents no certificate.
var ErrNoPeerCertificate = errors.New("peer presented no certificate")

// MismatchError reports a verified peer whose SPIFFE ID is not the one expected.
type MismatchError struct {
	// Want is the expected ID (or, for a trust-domain check, an ID holding only the domain).
	Want ID
	// Got is the ID the peer presented.
	Got ID
}

// Error implements error.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("peer identity %s does not match expected %s", e.Got, e.Want)
}

// VerifyChain verifies a peer's DER chain against roots and returns the leaf's SPIFFE ID,
// which must belong to trustDomain.
func VerifyChain(rawCerts [][]byte, roots *x509.CertPool, trustDomain string) (ID, error) {
	if len(rawCerts) == 0 {
		return ID{}, ErrNoPeerCertificate
	}
	certs := make([]*x509.Certificate, 0, len(rawCerts))
	for _, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return ID{}, fmt.Errorf("failed to parse peer certificate %d: %w", len(certs), err)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := certs[0].Verify(opts); err != nil {
		return ID{}, fmt.Errorf("failed to verify peer certificate %s: %w", certs[0].Subject, err)
	}
	id, err := FromCertificate(certs[0])
	if err != nil {
		return ID{}, err
	}
	if id.TrustDomain() != trustDomain {
		return ID{}, &MismatchError{Want: ID{trustDomain: trustDomain}, Got: id}
	}
	return id, nil
}

// ServerConfig returns a TLS 1.3 server configuration that presents src's current certificate
// and requires a client certificate chaining to src's roots within the workload's trust domain.
// Each handshake reads src anew, so rotated files apply to new connections only.
func ServerConfig(src Source, nextProtos []string) *tls.Config {
	base := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: nextProtos}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		m := src.Material()
		return &tls.Config{
			MinVersion:   tls.VersionTLS13,
			NextProtos:   nextProtos,
			Certificates: []tls.Certificate{m.Certificate},
			ClientAuth:   tls.RequireAnyClientCert,
			VerifyConnection: func(cs tls.ConnectionState) error {
				_, err := VerifyChain(rawChain(cs.PeerCertificates), m.Roots, m.ID.TrustDomain())
				return err
			},
		}, nil
	}
	return base
}

// ClientConfig returns a TLS 1.3 client configuration that presents src's current certificate
// and accepts only a server whose certificate chains to src's roots and carries want (any
// workload of the trust domain if want is zero).
func ClientConfig(src Source, want ID, nextProtos []string) *tls.Config {
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
			got, err := VerifyChain(rawChain(cs.PeerCertificates), m.Roots, m.ID.TrustDomain())
			if err != nil {
				return err
			}
			if !want.IsZero() && got != want {
				return &MismatchError{Want: want, Got: got}
			}
			return nil
		},
	}
}

// PeerID returns the SPIFFE ID of the verified peer of a completed handshake.
func PeerID(cs *tls.ConnectionState) (ID, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return ID{}, ErrNoPeerCertificate
	}
	return FromCertificate(cs.PeerCertificates[0])
}

func rawChain(certs []*x509.Certificate) [][]byte {
	raw := make([][]byte, len(certs))
	for i, c := range certs {
		raw[i] = c.Raw
	}
	return raw
}
