package system

import (
	"errors"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/dns/corefile"
)

func TestLabCorefile(t *testing.T) {
	block, err := corefile.Block(corefile.Config{
		Zones: []string{"mesh.internal", "clusterset.local"}, TakeoverNames: []string{"web.shop.svc.cluster.local"},
		Upstreams: []string{"10.0.0.10:53"},
	})
	if err != nil {
		t.Fatal(err)
	}
	withBlock, err := corefile.Apply(BaseCorefile, block)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		want     []string // lines the output has
		wantNot  []string // substrings it does not have
		err      error
	}{
		{
			name: "base", in: BaseCorefile,
			want: []string{"    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       kubeconfig /k/c\n       pods insecure\n"},
		},
		{
			name: "meshfed's blocks", in: withBlock,
			want:    []string{"       kubeconfig /k/c\n", "    forward . 10.9.1.2:5353\n", "clusterset.local:53 mesh.internal:53 {\n", "web.shop.svc.cluster.local:53 {\n"},
			wantNot: []string{"10.0.0.10"},
		},
		{
			name: "other forward targets are kept", in: BaseCorefile + "example.org:53 {\n  forward . 10.0.0.10:5300 10.0.0.11:53 10.0.0.10:53\n}\n",
			want: []string{"  forward . 10.0.0.10:5300 10.0.0.11:53 10.9.1.2:5353\n"},
		},
		{name: "no kubernetes block", in: ".:53 {\n    errors\n}\n", err: ErrNotKubeadmCorefile},
		{name: "empty", in: "", err: ErrNotKubeadmCorefile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LabCorefile(tt.in, "/k/c", "10.0.0.10", "10.9.1.2:5353")
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
		})
	}
}

// FuzzLabCorefile: whatever the ConfigMap holds (the hub writes it, but anyone with access to
// kube-system may), the translation never panics, adds exactly one kubeconfig line per
// kubernetes block, and leaves no forwarding to the Service IP.
func FuzzLabCorefile(f *testing.F) {
	f.Add(BaseCorefile)
	f.Add(BaseCorefile + "mesh.internal:53 {\n    forward . 10.0.0.10:53\n}\n")
	f.Add("kubernetes cluster.local {\nforward 10.0.0.10:53\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := LabCorefile(in, "/k/c", "10.0.0.10", "10.9.1.2:5353")
		if err != nil {
			return
		}
		added := strings.Count(got, "kubeconfig /k/c\n") - strings.Count(in, "kubeconfig /k/c\n")
		if added < 1 {
			t.Errorf("no kubeconfig line added:\n%s", got)
		}
		for line := range strings.Lines(got) {
			fields := strings.Fields(line)
			if len(fields) >= 2 && fields[0] == "forward" && strings.Contains(" "+strings.Join(fields[2:], " ")+" ", " 10.0.0.10:53 ") {
				t.Errorf("still forwards to the Service IP: %q", line)
			}
		}
	})
}
