package corefile

import (
	"errors"
	"strings"
	"testing"
)

// kindCorefile is the Corefile kubeadm (and kind) install.
const kindCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`

var sample = Config{
	Zones:         []string{"mesh.internal", "clusterset.local.", "Mesh.Internal"},
	TakeoverNames: []string{"web.shop.svc.cluster.local", "api.shop.svc.cluster.local"},
	Upstreams:     []string{"10.96.0.53:53"},
}

func TestBlock(t *testing.T) {
	got, err := Block(sample)
	if err != nil {
		t.Fatal(err)
	}
	want := BeginMarker + `
# the federation's zones, answered by meshfed-dns
clusterset.local:53 mesh.internal:53 {
    errors
    cache 5
    forward . 10.96.0.53:53
}
# global services taking over their cluster-local names, answered by meshfed-dns
api.shop.svc.cluster.local:53 web.shop.svc.cluster.local:53 {
    errors
    cache 5
    forward . 10.96.0.53:53
}
` + EndMarker + "\n"
	if got != want {
		t.Errorf("Block:\n%s\nwant:\n%s", got, want)
	}
	noTakeover, err := Block(Config{Zones: []string{"mesh.internal"}, Upstreams: []string{"10.96.0.53:53", "[fd00::53]:53"}, Port: 1053, Cache: -1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(noTakeover, "takeover") || strings.Contains(noTakeover, "cache") || !strings.Contains(noTakeover, "mesh.internal:1053 {") ||
		!strings.Contains(noTakeover, "forward . 10.96.0.53:53 [fd00::53]:53\n") {
		t.Errorf("Block without takeover names, port 1053, no cache:\n%s", noTakeover)
	}
}

func TestBlockInvalid(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		err  string
	}{
		{name: "nothing", c: Config{Upstreams: []string{"10.0.0.1:53"}}, err: "no zone"},
		{name: "bad zone", c: Config{Zones: []string{"mesh internal"}, Upstreams: []string{"10.0.0.1:53"}}, err: "invalid zone"},
		{name: "brace in a zone", c: Config{Zones: []string{"a{"}, Upstreams: []string{"10.0.0.1:53"}}, err: "invalid zone"},
		{name: "no upstream", c: Config{Zones: []string{"mesh.internal"}}, err: "no upstream"},
		{name: "upstream name", c: Config{Zones: []string{"mesh.internal"}, Upstreams: []string{"meshfed-dns:53"}}, err: "not IP:port"},
		{name: "upstream without port", c: Config{Zones: []string{"mesh.internal"}, Upstreams: []string{"10.0.0.1"}}, err: "not IP:port"},
		{name: "port", c: Config{Zones: []string{"mesh.internal"}, Upstreams: []string{"10.0.0.1:53"}, Port: 70000}, err: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Block(tt.c); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Block: %v, want %q", err, tt.err)
			}
		})
	}
}

func TestApplyRemove(t *testing.T) {
	block := mustBlock(t, sample)
	other := mustBlock(t, Config{Zones: []string{"east.example"}, Upstreams: []string{"10.96.0.54:53"}})
	tests := []struct {
		name     string
		corefile string
		want     string // Apply's result
		removed  string // Remove(Apply(...))
	}{
		{name: "kind Corefile", corefile: kindCorefile, want: kindCorefile + "\n" + block, removed: kindCorefile},
		{name: "no trailing newline", corefile: strings.TrimSuffix(kindCorefile, "\n"), want: kindCorefile + "\n" + block, removed: kindCorefile},
		{name: "empty", corefile: "", want: block, removed: ""},
		{name: "replaces an older block", corefile: kindCorefile + "\n" + other, want: kindCorefile + "\n" + block, removed: kindCorefile},
		{
			name: "block in the middle stays there", corefile: ".:53 {\n    forward . 8.8.8.8\n}\n" + other + "example.org:53 {\n    whoami\n}\n",
			want:    ".:53 {\n    forward . 8.8.8.8\n}\n" + block + "example.org:53 {\n    whoami\n}\n",
			removed: ".:53 {\n    forward . 8.8.8.8\n}\nexample.org:53 {\n    whoami\n}\n",
		},
		{name: "same zone on another port", corefile: "clusterset.local:5353 {\n    whoami\n}\n", want: "clusterset.local:5353 {\n    whoami\n}\n\n" + block, removed: "clusterset.local:5353 {\n    whoami\n}\n"},
		{name: "same zone, other transport", corefile: "tls://clusterset.local {\n    whoami\n}\n", want: "tls://clusterset.local {\n    whoami\n}\n\n" + block, removed: "tls://clusterset.local {\n    whoami\n}\n"},
		{name: "quoted braces and comments", corefile: ".:53 {\n    template IN A x { answer \"{{ .Name }} 60 IN A 1.2.3.4 }\" }\n    # } not a brace\n}\n", want: ".:53 {\n    template IN A x { answer \"{{ .Name }} 60 IN A 1.2.3.4 }\" }\n    # } not a brace\n}\n\n" + block, removed: ".:53 {\n    template IN A x { answer \"{{ .Name }} 60 IN A 1.2.3.4 }\" }\n    # } not a brace\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(tt.corefile, block)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Apply:\n%s\nwant:\n%s", got, tt.want)
			}
			if again, err := Apply(got, block); err != nil || again != got {
				t.Errorf("Apply again changed it (%v):\n%s", err, again)
			}
			removed, err := Remove(got)
			if err != nil || removed != tt.removed {
				t.Errorf("Remove (%v):\n%q\nwant:\n%q", err, removed, tt.removed)
			}
			if again, err := Remove(removed); err != nil || again != removed {
				t.Errorf("Remove again changed it (%v)", err)
			}
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	block := mustBlock(t, sample)
	tests := []struct {
		name     string
		corefile string
		err      error
	}{
		{name: "zone served elsewhere", corefile: "clusterset.local:53 {\n    whoami\n}\n", err: ErrZoneTaken},
		{name: "zone served elsewhere, default port", corefile: "dns://Mesh.Internal. {\n    whoami\n}\n", err: ErrZoneTaken},
		{name: "takeover name served elsewhere", corefile: "web.shop.svc.cluster.local {\n}\n", err: ErrZoneTaken},
		{name: "zone among several keys", corefile: "example.org:53, mesh.internal:53 {\n}\n", err: ErrZoneTaken},
		{name: "two begin markers", corefile: BeginMarker + "\n" + BeginMarker + "\n" + EndMarker + "\n", err: ErrMarkers},
		{name: "end before begin", corefile: EndMarker + "\n" + BeginMarker + "\n", err: ErrMarkers},
		{name: "begin without end", corefile: kindCorefile + BeginMarker + "\n", err: ErrMarkers},
		{name: "markers inside a block", corefile: ".:53 {\n" + BeginMarker + "\n" + EndMarker + "\n}\n", err: ErrMarkers},
		{name: "unbalanced braces", corefile: ".:53 {\n    errors\n", err: ErrSyntax},
		{name: "unclosed quote", corefile: ".:53 {\n    errors \"x\n}\n", err: ErrSyntax},
		{name: "stray close", corefile: "}\n", err: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(tt.corefile, block)
			if !errors.Is(err, tt.err) {
				t.Errorf("Apply: %v, want %v", err, tt.err)
			}
			if got != tt.corefile {
				t.Errorf("Apply changed the Corefile it refused")
			}
		})
	}
	if _, err := Apply(kindCorefile, "no markers"); !errors.Is(err, ErrMarkers) {
		t.Errorf("Apply of a block without markers: %v", err)
	}
	if _, err := Remove(EndMarker + "\n"); !errors.Is(err, ErrMarkers) {
		t.Errorf("Remove with an end marker alone: %v", err)
	}
}

// FuzzApplyRemove: for any Corefile, Apply either refuses and returns it unchanged, or returns
// a Corefile that applying again leaves as it is and that Remove turns back into the original
// (plus a final newline when it had none).
func FuzzApplyRemove(f *testing.F) {
	for _, s := range []string{kindCorefile, "", "x {\n}", BeginMarker + "\n" + EndMarker + "\n", ".:53 {\n \"}\" \n}\n", "a, b:53 { c }\n# x\n"} {
		f.Add(s)
	}
	block := mustBlock(f, sample)
	f.Fuzz(func(t *testing.T, corefile string) {
		got, err := Apply(corefile, block)
		if err != nil {
			if got != corefile {
				t.Fatalf("Apply refused (%v) but changed the Corefile", err)
			}
			return
		}
		if !strings.Contains(got, block) {
			t.Fatalf("Apply's result lacks the block")
		}
		if again, err := Apply(got, block); err != nil || again != got {
			t.Fatalf("Apply is not idempotent (%v):\n%q\n%q", err, got, again)
		}
		removed, err := Remove(got)
		if err != nil {
			t.Fatalf("Remove after Apply: %v", err)
		}
		if _, _, _, had, _ := split(corefile); had {
			return // an older block was replaced: the original is not what Remove gives back
		}
		want := corefile
		if want != "" && !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if removed != want {
			t.Fatalf("Remove(Apply(c)) != c:\n%q\n%q", removed, want)
		}
	})
}

func mustBlock(t testing.TB, c Config) string {
	t.Helper()
	b, err := Block(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
