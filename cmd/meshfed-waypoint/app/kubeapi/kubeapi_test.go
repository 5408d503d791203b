package kubeapi

import (
	"github.com/meshfed/meshfed/hbone/pki"

	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubeconfigText is a kubeconfig with two contexts; the current one is chosen by current.
func kubeconfigText(current, user string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: %s
clusters:
- name: other
  cluster: {server: "https://other.example:6443"}
- name: lab
  cluster:
    server: https://10.0.0.1:6443/prefix/
    certificate-authority: ca.pem
    tls-server-name: kube.lab
contexts:
- name: other
  context: {cluster: other, user: nobody}
- name: lab
  context: {cluster: lab, user: %s}
users:
- name: nobody
  user: {token: not-this-one}
- name: bearer
  user: {tokenFile: /abs/token}
- name: cert
  user: {client-certificate: certs/c.pem, client-key: certs/k.pem}
- name: basic
  user: {username: u, password: p}
- name: exec
  user: {exec: {command: gcloud}}
- name: provider
  user: {auth-provider: {name: oidc}}
`, current, user)
}

func TestParseKubeconfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	certPEM, keyPEM := clientPair(t)
	files := map[string][]byte{
		"/cfg/ca.pem":      caPEM,
		"/abs/token":       []byte("tok-from-file\n"),
		"/cfg/certs/c.pem": certPEM,
		"/cfg/certs/k.pem": keyPEM,
	}
	read := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, fs.ErrNotExist
	}
	for _, tc := range []struct {
		name, text string
		check      func(*Server) error
		wantErr    string
	}{
		{name: "bearer from tokenFile, relative CA, path prefix", text: kubeconfigText("lab", "bearer"), check: func(s *Server) error {
			tr := s.client.Transport.(*http.Transport)
			switch {
			case s.base.String() != "https://10.0.0.1:6443/prefix":
				return fmt.Errorf("base %s", s.base)
			case s.token != "tok-from-file":
				return fmt.Errorf("token %q", s.token)
			case tr.TLSClientConfig.ServerName != "kube.lab" || tr.TLSClientConfig.RootCAs == nil:
				return errors.New("TLS config without the CA or the server name")
			case tr.Proxy != nil:
				return errors.New("a proxy from the environment")
			}
			return nil
		}},
		{name: "client certificate relative to the file", text: kubeconfigText("lab", "cert"), check: func(s *Server) error {
			if n := len(s.client.Transport.(*http.Transport).TLSClientConfig.Certificates); n != 1 || s.token != "" {
				return fmt.Errorf("%d certificates, token %q", n, s.token)
			}
			return nil
		}},
		{name: "basic", text: kubeconfigText("lab", "basic"), check: func(s *Server) error {
			if s.username != "u" || s.password != "p" {
				return fmt.Errorf("user %q password %q", s.username, s.password)
			}
			return nil
		}},
		{name: "the current context, not the first", text: kubeconfigText("other", "bearer"), check: func(s *Server) error {
			if s.base.Host != "other.example:6443" || s.token != "not-this-one" {
				return fmt.Errorf("base %s token %q", s.base, s.token)
			}
			return nil
		}},
		{name: "exec", text: kubeconfigText("lab", "exec"), wantErr: "exec plugin"},
		{name: "auth provider", text: kubeconfigText("lab", "provider"), wantErr: "auth provider"},
		{name: "unknown user", text: kubeconfigText("lab", "ghost"), wantErr: `user "ghost" of context "lab" not found`},
		{name: "unknown context", text: kubeconfigText("nope", "bearer"), wantErr: `context "nope" not found`},
		{name: "no current context", text: "clusters: []", wantErr: "no current-context"},
		{name: "not YAML", text: "{[", wantErr: "not a kubeconfig"},
		{name: "unknown cluster", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]", wantErr: `cluster "x" of context "c" not found`},
		{name: "server not a URL", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\nclusters: [{name: x, cluster: {server: 'ftp://h'}}]", wantErr: "not an http(s) URL"},
		{name: "proxy", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\nclusters: [{name: x, cluster: {server: 'https://h', proxy-url: 'http://p'}}]", wantErr: "proxy-url"},
		{name: "CA and insecure", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\nclusters: [{name: x, cluster: {server: 'https://h', insecure-skip-tls-verify: true, certificate-authority: ca.pem}}]", wantErr: "insecure-skip-tls-verify"},
		{name: "CA file missing", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\nclusters: [{name: x, cluster: {server: 'https://h', certificate-authority: none.pem}}]", wantErr: "failed to read certificate-authority"},
		{name: "CA data not PEM", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\nclusters: [{name: x, cluster: {server: 'https://h', certificate-authority-data: aGVsbG8=}}]", wantErr: "no PEM certificate"},
		{name: "key without certificate", text: "current-context: c\ncontexts: [{name: c, context: {cluster: x, user: u}}]\nclusters: [{name: x, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {client-key: certs/k.pem}}]", wantErr: "client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseKubeconfig([]byte(tc.text), "/cfg", read)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.check(s); err != nil {
				t.Error(err)
			}
		})
	}
}

// otherCA is a CA the API servers of these tests do not trust.
func otherCA(t *testing.T) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA("not the cluster", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// clientPair is a client certificate and key in PEM.
func clientPair(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	p, err := otherCA(t).IssueClient("waypoint", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return p.CertPEM, p.KeyPEM
}

// TestInClusterNodeLabels reads a Node's labels as a pod does, from an API server on a real
// TLS socket: the service account's token and CA, the metadata-only Accept header, the Node's
// path; and the errors it answers read clearly.
func TestInClusterNodeLabels(t *testing.T) {
	var gotAccept, gotAuth string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/nodes/{name}", func(w http.ResponseWriter, r *http.Request) {
		gotAccept, gotAuth = r.Header.Get("Accept"), r.Header.Get("Authorization")
		switch r.PathValue("name") {
		case "node-a":
			_, _ = w.Write([]byte(`{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"node-a","labels":{"topology.kubernetes.io/zone":"z1"}}}`))
		case "whole":
			_, _ = w.Write([]byte(`{"kind":"Node","metadata":{"labels":{"topology.kubernetes.io/region":"r1"}},"status":{}}`))
		case "secret":
			_, _ = w.Write([]byte(`{"kind":"Secret","metadata":{"labels":{"a":"b"}}}`))
		case "huge":
			_, _ = w.Write([]byte(`{"kind":"Node","metadata":{"labels":{"a":"` + strings.Repeat("x", MaxNodeBytes) + `"}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","status":"Failure","message":"nodes \"` + r.PathValue("name") + `\" not found","code":404}`))
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), "pod-token\n")
	writeFile(t, filepath.Join(dir, "ca.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	s, err := InCluster(dir, host, port)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := s.NodeLabels(t.Context(), "node-a")
	if err != nil || labels["topology.kubernetes.io/zone"] != "z1" {
		t.Fatalf("labels %v, error %v", labels, err)
	}
	if gotAuth != "Bearer pod-token" || !strings.HasPrefix(gotAccept, "application/json;as=PartialObjectMetadata") {
		t.Errorf("Authorization %q, Accept %q", gotAuth, gotAccept)
	}
	if labels, err := s.NodeLabels(t.Context(), "whole"); err != nil || labels["topology.kubernetes.io/region"] != "r1" {
		t.Errorf("a whole Node: labels %v, error %v", labels, err)
	}
	for name, want := range map[string]string{
		"gone":   `404 Not Found: nodes "gone" not found`,
		"secret": `a "Secret", not a Node`,
		"huge":   "larger than",
	} {
		if _, err := s.NodeLabels(t.Context(), name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("node %s: error %v, want one with %q", name, err, want)
		}
	}

	// A server whose certificate the service account's CA did not sign is refused.
	other := httptest.NewUnstartedServer(mux)
	p, err := otherCA(t).IssueServer("127.0.0.1", []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	other.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	other.StartTLS()
	defer other.Close()
	oh, op, _ := net.SplitHostPort(other.Listener.Addr().String())
	s2, err := InCluster(dir, oh, op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.NodeLabels(t.Context(), "node-a"); err == nil {
		t.Error("a server outside the CA answered")
	}
	if _, err := InCluster(t.TempDir(), host, port); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("no token mounted: error %v", err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseKubeconfig: any file gives an error or a server with an http(s) URL and a host,
// never a panic.
func FuzzParseKubeconfig(f *testing.F) {
	f.Add(kubeconfigText("lab", "bearer"))
	f.Add(kubeconfigText("lab", "exec"))
	f.Add(`{"current-context":"c","contexts":[{"name":"c","context":{"cluster":"x"}}],"clusters":[{"name":"x","cluster":{"server":"https://h"}}]}`)
	f.Add("current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\nclusters: [{name: x, cluster: {server: 'http://[::1]:1/p'}}]")
	read := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	f.Fuzz(func(t *testing.T, text string) {
		s, err := parseKubeconfig([]byte(text), "/cfg", read)
		if err != nil {
			return
		}
		if s.base.Host == "" || (s.base.Scheme != "https" && s.base.Scheme != "http") || s.client == nil {
			t.Fatalf("server %+v from %q", s, text)
		}
	})
}

// FuzzParseNodeLabels: any answer gives labels or an error, never a panic.
func FuzzParseNodeLabels(f *testing.F) {
	f.Add([]byte(`{"kind":"Node","metadata":{"labels":{"a":"b"}}}`))
	f.Add([]byte(`{"kind":"PartialObjectMetadata","metadata":{}}`))
	f.Add([]byte(`{"kind":"Node","metadata":{"labels":[]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		labels, err := parseNodeLabels(body)
		if err != nil && labels != nil {
			t.Fatalf("labels %v with error %v", labels, err)
		}
	})
}
