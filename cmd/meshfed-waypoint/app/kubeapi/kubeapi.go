package kubeapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

const (
	// ServiceAccountDir holds the in-cluster credentials, as the kubelet mounts them in every
	// pod with a service account.
	ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	// MaxNodeBytes bounds the answer read: only the Node's metadata is asked for.
	MaxNodeBytes = 1 << 20
)

// Server is a Kubernetes API server and the credentials to call it with.
type Server struct {
	base     *url.URL // scheme and host (and a path prefix, if the kubeconfig's server has one)
	client   *http.Client
	token    string
	username string // basic authentication, with password, when token is empty
	password string
}

// InCluster is the API server of the pod's cluster, with the pod's service account.
func InCluster(dir, host, port string) (*Server, error) {
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return nil, fmt.Errorf("failed to read the service account token: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("failed to read the service account CA: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.RootCAs, err = certPool(ca); err != nil {
		return nil, fmt.Errorf("service account CA: %w", err)
	}
	base := &url.URL{Scheme: "https", Host: net.JoinHostPort(host, port)}
	return &Server{base: base, client: tlsClient(cfg), token: strings.TrimSpace(string(token))}, nil
}

// kubeconfig is the part of a kubeconfig file the waypoint reads: the current context's
// cluster and user.
type kubeconfig struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthority     string `json:"certificate-authority"`
			CertificateAuthorityData []byte `json:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
			TLSServerName            string `json:"tls-server-name"`
			ProxyURL                 string `json:"proxy-url"`
		} `json:"cluster"`
	} `json:"clusters"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
	Users []struct {
		Name string       `json:"name"`
		User kubeAuthInfo `json:"user"`
	} `json:"users"`
}

// kubeAuthInfo is a kubeconfig user. Exec plugins and auth providers are read only to refuse
// them by name.
type kubeAuthInfo struct {
	ClientCertificate     string          `json:"client-certificate"`
	ClientCertificateData []byte          `json:"client-certificate-data"`
	ClientKey             string          `json:"client-key"`
	ClientKeyData         []byte          `json:"client-key-data"`
	Token                 string          `json:"token"`
	TokenFile             string          `json:"tokenFile"`
	Username              string          `json:"username"`
	Password              string          `json:"password"`
	Exec                  json.RawMessage `json:"exec"`
	AuthProvider          json.RawMessage `json:"auth-provider"`
}

// FromKubeconfig is the API server and user of the current context of the kubeconfig at
// path. Relative file names in it are relative to its directory, as kubectl reads them.
func FromKubeconfig(path string) (*Server, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read kubeconfig: %w", err)
	}
	s, err := parseKubeconfig(data, filepath.Dir(path), os.ReadFile)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return s, nil
}

// parseKubeconfig reads a kubeconfig's current context; readFile reads the files it names,
// relative to dir.
func parseKubeconfig(data []byte, dir string, readFile func(string) ([]byte, error)) (*Server, error) {
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
	}
	if kc.CurrentContext == "" {
		return nil, errors.New("no current-context")
	}
	ctxIdx := indexOf(len(kc.Contexts), func(i int) bool { return kc.Contexts[i].Name == kc.CurrentContext })
	if ctxIdx < 0 {
		return nil, fmt.Errorf("context %q not found", kc.CurrentContext)
	}
	want := kc.Contexts[ctxIdx].Context
	clusterIdx := indexOf(len(kc.Clusters), func(i int) bool { return kc.Clusters[i].Name == want.Cluster })
	userIdx := indexOf(len(kc.Users), func(i int) bool { return kc.Users[i].Name == want.User })
	if clusterIdx < 0 {
		return nil, fmt.Errorf("cluster %q of context %q not found", want.Cluster, kc.CurrentContext)
	}
	cluster := kc.Clusters[clusterIdx].Cluster
	var user kubeAuthInfo
	if want.User != "" {
		if userIdx < 0 {
			return nil, fmt.Errorf("user %q of context %q not found", want.User, kc.CurrentContext)
		}
		user = kc.Users[userIdx].User
	}
	switch {
	case len(user.Exec) > 0 && string(user.Exec) != "null":
		return nil, fmt.Errorf("user %q authenticates with an exec plugin, which the waypoint does not run: use a token or a client certificate, or --region/--zone/--subzone", want.User)
	case len(user.AuthProvider) > 0 && string(user.AuthProvider) != "null":
		return nil, fmt.Errorf("user %q authenticates with an auth provider, which the waypoint does not support: use a token or a client certificate, or --region/--zone/--subzone", want.User)
	case cluster.ProxyURL != "":
		return nil, fmt.Errorf("cluster %q has a proxy-url, which the waypoint does not support", want.Cluster)
	}

	base, err := url.Parse(cluster.Server)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("cluster %q: server %q is not an http(s) URL", want.Cluster, cluster.Server)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawQuery, base.Fragment = "", ""

	read := func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return readFile(name)
	}
	s := &Server{base: base, token: user.Token, username: user.Username, password: user.Password}
	if s.token == "" && user.TokenFile != "" {
		t, err := read(user.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("user %q: failed to read tokenFile: %w", want.User, err)
		}
		s.token = strings.TrimSpace(string(t))
	}

	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cluster.TLSServerName, InsecureSkipVerify: cluster.InsecureSkipTLSVerify} //nolint:gosec // the kubeconfig asks for it, as kubectl honors it
	ca := cluster.CertificateAuthorityData
	if len(ca) == 0 && cluster.CertificateAuthority != "" {
		if ca, err = read(cluster.CertificateAuthority); err != nil {
			return nil, fmt.Errorf("cluster %q: failed to read certificate-authority: %w", want.Cluster, err)
		}
	}
	if len(ca) > 0 && cluster.InsecureSkipTLSVerify {
		return nil, fmt.Errorf("cluster %q: a certificate-authority together with insecure-skip-tls-verify", want.Cluster)
	}
	if len(ca) > 0 {
		if cfg.RootCAs, err = certPool(ca); err != nil {
			return nil, fmt.Errorf("cluster %q: certificate-authority: %w", want.Cluster, err)
		}
	}
	certPEM, keyPEM := user.ClientCertificateData, user.ClientKeyData
	if len(certPEM) == 0 && user.ClientCertificate != "" {
		if certPEM, err = read(user.ClientCertificate); err != nil {
			return nil, fmt.Errorf("user %q: failed to read client-certificate: %w", want.User, err)
		}
	}
	if len(keyPEM) == 0 && user.ClientKey != "" {
		if keyPEM, err = read(user.ClientKey); err != nil {
			return nil, fmt.Errorf("user %q: failed to read client-key: %w", want.User, err)
		}
	}
	if len(certPEM) > 0 || len(keyPEM) > 0 {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("user %q: client certificate: %w", want.User, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	s.client = tlsClient(cfg)
	return s, nil
}

// indexOf is the first i below n for which match is true, -1 for none (a kubeconfig whose
// names repeat is broken; the first entry of a name is the one read).
func indexOf(n int, match func(int) bool) int {
	for i := range n {
		if match(i) {
			return i
		}
	}
	return -1
}

// certPool is the certificates of a PEM bundle; none is an error.
func certPool(pem []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate")
	}
	return pool, nil
}

// tlsClient is an HTTP client with cfg and no proxy from the environment: the API server is
// reached directly, as in a pod.
func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
}

// NodeLabels GETs the Node name's metadata and returns its labels.
func (s *Server) NodeLabels(ctx context.Context, name string) (map[string]string, error) {
	u := *s.base
	u.Path += "/api/v1/nodes/" + url.PathEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	// Only the metadata, as client-go's metadata client asks; a server that cannot answer that
	// way sends the whole Node, whose metadata reads the same.
	req.Header.Set("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json")
	req.Header.Set("User-Agent", "meshfed-waypoint")
	switch {
	case s.token != "":
		req.Header.Set("Authorization", "Bearer "+s.token)
	case s.username != "":
		req.SetBasicAuth(s.username, s.password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxNodeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read node %s: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to get node %s: %s: %s", name, resp.Status, statusMessage(body))
	}
	return parseNodeLabels(body)
}

// parseNodeLabels reads metadata.labels from a Node or its PartialObjectMetadata.
func parseNodeLabels(body []byte) (map[string]string, error) {
	if len(body) > MaxNodeBytes {
		return nil, fmt.Errorf("node answer larger than %d bytes", MaxNodeBytes)
	}
	var obj struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("node answer is not JSON: %w", err)
	}
	if obj.Kind != "Node" && obj.Kind != "PartialObjectMetadata" {
		return nil, fmt.Errorf("node answer is a %q, not a Node", obj.Kind)
	}
	return obj.Metadata.Labels, nil
}

// statusMessage is the message of a Kubernetes Status answer, or the start of any other body.
func statusMessage(body []byte) string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) == nil && st.Message != "" {
		return st.Message
	}
	const most = 200
	if len(body) > most {
		body = body[:most]
	}
	return strings.TrimSpace(string(body))
}
