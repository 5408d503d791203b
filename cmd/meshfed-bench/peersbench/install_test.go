package peersbench

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestInstallPlan(t *testing.T) {
	for _, tt := range []struct {
		name    string
		missing []string
		root    bool
		want    []string
		wantErr string
	}{
		{"nothing missing", nil, false, nil, ""},
		{"root installs what is missing", []string{"nginx"}, true, []string{"apt-get", "install", "-y", "--no-install-recommends", "nginx-light"}, ""},
		{"root installs both", []string{"haproxy", "nginx"}, true, []string{"apt-get", "install", "-y", "--no-install-recommends", "haproxy", "nginx-light"}, ""},
		{"not root says what to install", []string{"haproxy", "nginx"}, false, nil, "sudo apt-get install -y haproxy nginx-light"},
	} {
		got, err := installPlan(tt.missing, tt.root)
		if tt.wantErr != "" {
			if !errors.Is(err, errPeersMissing) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want errPeersMissing saying %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: installPlan = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
