package identity

import (
	"errors"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
		td, ns  string
		sa      string
	}{
		{in: "spiffe://cluster.local/ns/default/sa/web", td: "cluster.local", ns: "default", sa: "web"},
		{in: "spiffe://example.org", td: "example.org"},
		{in: "spiffe://example.org/a/b.c-d_e", td: "example.org"},
		{in: "", wantErr: true},
		{in: "http://example.org/ns/a/sa/b", wantErr: true},
		{in: "spiffe://", wantErr: true},
		{in: "spiffe://Example.org/x", wantErr: true},
		{in: "spiffe://example.org:8080/x", wantErr: true},
		{in: "spiffe://user@example.org/x", wantErr: true},
		{in: "spiffe://example.org/", wantErr: true},
		{in: "spiffe://example.org//x", wantErr: true},
		{in: "spiffe://example.org/x/../y", wantErr: true},
		{in: "spiffe://example.org/x?y=1", wantErr: true},
		{in: "spiffe://example.org/x#f", wantErr: true},
		{in: "spiffe://example.org/x%20y", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidID) {
					t.Fatalf("ParseID(%q) error = %v, want ErrInvalidID", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseID(%q): %v", tt.in, err)
			}
			if id.String() != tt.in || id.TrustDomain() != tt.td || id.Namespace() != tt.ns || id.ServiceAccount() != tt.sa {
				t.Fatalf("ParseID(%q) = %q td=%q ns=%q sa=%q", tt.in, id, id.TrustDomain(), id.Namespace(), id.ServiceAccount())
			}
			if got := id.URL().String(); got != tt.in {
				t.Fatalf("URL() = %q, want %q", got, tt.in)
			}
		})
	}
}

// FuzzParseID checks that every accepted ID formats back to its input and re-parses to itself.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"spiffe://cluster.local/ns/a/sa/b", "spiffe://x", "spiffe://x/../y", "spiffe://a/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("ParseID(%q).String() = %q", s, id.String())
		}
		again, err := ParseID(id.URL().String())
		if err != nil || again != id {
			t.Fatalf("URL round trip of %q = %v, %v", s, again, err)
		}
	})
}
