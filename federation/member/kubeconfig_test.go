package member

import (
	"errors"
	"strings"
	"testing"
)

const kubeconfigHead = `apiVersion: v1
kind: Config
current-context: m
contexts:
- name: m
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
`

func TestRESTConfigFromKubeconfig(t *testing.T) {
	tests := []struct {
		name    string
		cluster string
		user    string
		wantErr error
		check   func(t *testing.T, host, token string, cert []byte)
	}{
		{
			name: "bearer token",
			user: "    token: abc\n",
			check: func(t *testing.T, host, token string, _ []byte) {
				if host != "https://127.0.0.1:6443" || token != "abc" {
					t.Errorf("host %q token %q", host, token)
				}
			},
		},
		{
			name: "inline client certificate",
			user: "    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n",
			check: func(t *testing.T, _, _ string, cert []byte) {
				if string(cert) != "cert" {
					t.Errorf("cert %q", cert)
				}
			},
		},
		{name: "exec plugin", user: "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, id]}\n", wantErr: ErrUnsafeKubeconfig},
		{name: "auth provider", user: "    auth-provider: {name: oidc}\n", wantErr: ErrUnsafeKubeconfig},
		{name: "token file", user: "    tokenFile: /etc/shadow\n", wantErr: ErrUnsafeKubeconfig},
		{name: "certificate file", user: "    client-certificate: /etc/cert\n    client-key: /etc/key\n", wantErr: ErrUnsafeKubeconfig},
		{name: "basic auth", user: "    username: a\n    password: b\n", wantErr: ErrUnsafeKubeconfig},
		{name: "impersonation", user: "    token: abc\n    as: system:admin\n", wantErr: ErrUnsafeKubeconfig},
		{name: "ca file", cluster: "    certificate-authority: /etc/ca\n", user: "    token: abc\n", wantErr: ErrUnsafeKubeconfig},
		{name: "no credentials", user: "    {}\n", wantErr: ErrInvalidKubeconfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := kubeconfigHead + tt.cluster + "users:\n- name: u\n  user:\n" + tt.user
			rc, err := RESTConfigFromKubeconfig([]byte(data))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, rc.Host, rc.BearerToken, rc.CertData)
			if rc.ExecProvider != nil || rc.AuthProvider != nil {
				t.Error("config carries an exec or auth provider")
			}
		})
	}
}

func TestRESTConfigFromKubeconfigInvalid(t *testing.T) {
	for name, data := range map[string]string{
		"not yaml":           "{{{",
		"no current context": strings.Replace(kubeconfigHead, "current-context: m", "", 1) + "users:\n- name: u\n  user: {token: a}\n",
		"missing user":       kubeconfigHead + "users: []\n",
		"missing cluster":    strings.Replace(kubeconfigHead, "cluster: c,", "cluster: nope,", 1) + "users:\n- name: u\n  user: {token: a}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := RESTConfigFromKubeconfig([]byte(data)); !errors.Is(err, ErrInvalidKubeconfig) {
				t.Fatalf("err = %v, want ErrInvalidKubeconfig", err)
			}
		})
	}
}

// FuzzRESTConfigFromKubeconfig feeds arbitrary Secret contents: the parser never panics, and an
// accepted config never carries a way to run code or read local files.
func FuzzRESTConfigFromKubeconfig(f *testing.F) {
	f.Add([]byte(kubeconfigHead + "users:\n- name: u\n  user: {token: a}\n"))
	f.Add([]byte(kubeconfigHead + "users:\n- name: u\n  user: {exec: {command: x}}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Config\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, err := RESTConfigFromKubeconfig(data)
		if err != nil {
			return
		}
		if rc.ExecProvider != nil || rc.AuthProvider != nil || rc.BearerTokenFile != "" || rc.CertFile != "" || rc.KeyFile != "" || rc.CAFile != "" {
			t.Fatalf("accepted an unsafe config: %+v", rc)
		}
	})
}
