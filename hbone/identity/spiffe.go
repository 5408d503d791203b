package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxIDLength bounds a SPIFFE ID as the SPIFFE specification does (2048 bytes).
const maxIDLength = 2048

// ErrInvalidID is wrapped by every error returned from ParseID.
var ErrInvalidID = errors.New("invalid SPIFFE ID")

// ID is a SPIFFE ID: spiffe://<trust-domain><path>. The zero ID is empty and means "any".
type ID struct {
	trustDomain string
	path        string
}

// ParseID parses s as a SPIFFE ID, enforcing the SPIFFE ID specification: scheme spiffe,
// a lower-case trust domain of [a-z0-9.-_], no port, user info, query or fragment, and a path
// of non-empty segments of [A-Za-z0-9.-_] other than "." and "..".
func ParseID(s string) (ID, error) {
	if len(s) > maxIDLength {
		return ID{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidID, maxIDLength)
	}
	rest, ok := strings.CutPrefix(s, "spiffe://")
	if !ok {
		return ID{}, fmt.Errorf("%w %q: scheme must be spiffe://", ErrInvalidID, s)
	}
	td, path, _ := strings.Cut(rest, "/")
	if err := validateTrustDomain(td); err != nil {
		return ID{}, fmt.Errorf("%w %q: %w", ErrInvalidID, s, err)
	}
	if path == "" {
		if strings.HasSuffix(rest, "/") {
			return ID{}, fmt.Errorf("%w %q: trailing slash", ErrInvalidID, s)
		}
		return ID{trustDomain: td}, nil
	}
	if err := validatePath(path); err != nil {
		return ID{}, fmt.Errorf("%w %q: %w", ErrInvalidID, s, err)
	}
	return ID{trustDomain: td, path: "/" + path}, nil
}

// WorkloadID returns spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>.
func WorkloadID(trustDomain, namespace, serviceAccount string) (ID, error) {
	return ParseID("spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount)
}

func validateTrustDomain(td string) error {
	if td == "" {
		return errors.New("empty trust domain")
	}
	for i := 0; i < len(td); i++ {
		c := td[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("trust domain has invalid character %q", c)
		}
	}
	return nil
}

func validatePath(path string) error {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" {
			return errors.New("empty path segment")
		}
		if seg == "." || seg == ".." {
			return errors.New("relative path segment")
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return fmt.Errorf("path has invalid character %q", c)
			}
		}
	}
	return nil
}

// String formats the ID as spiffe://<trust-domain><path>, or "" for the zero ID.
func (id ID) String() string {
	if id.IsZero() {
		return ""
	}
	return "spiffe://" + id.trustDomain + id.path
}

// TrustDomain returns the trust domain, e.g. "cluster.local".
func (id ID) TrustDomain() string { return id.trustDomain }

// Path returns the path including its leading slash, e.g. "/ns/default/sa/web".
func (id ID) Path() string { return id.path }

// IsZero reports whether id is the empty ID.
func (id ID) IsZero() bool { return id.trustDomain == "" }

// Namespace returns <ns> for a path of the form /ns/<ns>/sa/<sa>, else "".
func (id ID) Namespace() string {
	ns, _ := id.workload()
	return ns
}

// ServiceAccount returns <sa> for a path of the form /ns/<ns>/sa/<sa>, else "".
func (id ID) ServiceAccount() string {
	_, sa := id.workload()
	return sa
}

func (id ID) workload() (ns, sa string) {
	parts := strings.Split(id.path, "/")
	if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" {
		return "", ""
	}
	return parts[2], parts[4]
}

// URL returns the ID as a URL for a certificate's URI SAN.
func (id ID) URL() *url.URL {
	return &url.URL{Scheme: "spiffe", Host: id.trustDomain, Path: id.path}
}

// FromCertificate returns the single SPIFFE ID in cert's URI SANs.
func FromCertificate(cert *x509.Certificate) (ID, error) {
	var found []ID
	for _, u := range cert.URIs {
		if u.Scheme != "spiffe" {
			continue
		}
		id, err := ParseID(u.String())
		if err != nil {
			return ID{}, err
		}
		found = append(found, id)
	}
	if len(found) != 1 {
		return ID{}, fmt.Errorf("%w: certificate %q has %d SPIFFE URI SANs, want 1", ErrInvalidID, cert.Subject.String(), len(found))
	}
	return found[0], nil
}

// ParseIDOrZero is ParseID that maps "" to the zero ID.
func ParseIDOrZero(s string) (ID, error) {
	if s == "" {
		return ID{}, nil
	}
	return ParseID(s)
}
