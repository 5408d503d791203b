package framework

import (
	"bytes"
	"errors"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func TestKubeconfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *rest.Config
		wantErr error
	}{
		{name: "client certificate", cfg: &rest.Config{
			Host:            "https://127.0.0.1:6443",
			TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca"), CertData: []byte("crt"), KeyData: []byte("key")},
		}},
		{name: "token", cfg: &rest.Config{
			Host: "https://[::1]:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}, BearerToken: "tok",
		}},
		{name: "CA file", cfg: &rest.Config{
			Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAFile: "/ca.crt"},
		}, wantErr: ErrNotInline},
		{name: "token file", cfg: &rest.Config{Host: "https://127.0.0.1:6443", BearerTokenFile: "/tok"}, wantErr: ErrNotInline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Kubeconfig("member", tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Kubeconfig() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			got, err := clientcmd.RESTConfigFromKubeConfig(data)
			if err != nil {
				t.Fatalf("failed to parse rendered kubeconfig: %v\n%s", err, data)
			}
			if got.Host != tt.cfg.Host || !bytes.Equal(got.CAData, tt.cfg.CAData) ||
				!bytes.Equal(got.CertData, tt.cfg.CertData) || !bytes.Equal(got.KeyData, tt.cfg.KeyData) ||
				got.BearerToken != tt.cfg.BearerToken {
				t.Errorf("round trip = %+v, want %+v", got, tt.cfg)
			}
		})
	}
}
