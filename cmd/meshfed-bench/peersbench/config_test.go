package peersbench

import (
	"strings"
	"testing"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/internal/golden"
)

var testConfig = peerConfig{
	Listen:   benchmesh.Addr{IP: "127.0.0.50", Port: 8080},
	Backends: []benchmesh.Addr{{IP: "127.0.0.31", Port: 9001}, {IP: "127.0.0.32", Port: 9002}, {IP: "127.0.0.33", Port: 9003}},
	Workers:  2,
	Dir:      "/tmp/peers/nginx-2",
}

// TestConfigsGolden pins the three generated configurations; the smoke test shows that the
// real haproxy and nginx accept them.
func TestConfigsGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		gen  func(peerConfig) (string, error)
	}{
		{"haproxy_http", func(c peerConfig) (string, error) { return haproxyConfig(c, "http") }},
		{"haproxy_tcp", func(c peerConfig) (string, error) { return haproxyConfig(c, "tcp") }},
		{"nginx", nginxConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.gen(testConfig)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name+".conf", got)
		})
	}
}

// TestConfigsCarryWorkersAndBackends: the worker count and every backend reach each
// configuration, whatever they are.
func TestConfigsCarryWorkersAndBackends(t *testing.T) {
	c := testConfig
	c.Workers = 7
	h, err := haproxyConfig(c, "tcp")
	if err != nil {
		t.Fatal(err)
	}
	n, err := nginxConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nbthread 7\n", "mode tcp\n", "bind 127.0.0.50:8080\n", "server b3 127.0.0.33:9003\n"} {
		if !strings.Contains(h, want) {
			t.Errorf("haproxy configuration lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "http-keep-alive") {
		t.Errorf("haproxy tcp configuration has HTTP options:\n%s", h)
	}
	for _, want := range []string{"worker_processes 7;\n", "listen 127.0.0.50:8080;\n", "server 127.0.0.31:9001;\n", "server 127.0.0.33:9003;\n", "daemon off;\n"} {
		if !strings.Contains(n, want) {
			t.Errorf("nginx configuration lacks %q:\n%s", want, n)
		}
	}
}

func TestConfigsRejectBadInput(t *testing.T) {
	for name, mod := range map[string]func(*peerConfig){
		"no workers":         func(c *peerConfig) { c.Workers = 0 },
		"too many workers":   func(c *peerConfig) { c.Workers = maxWorkers + 1 },
		"no backends":        func(c *peerConfig) { c.Backends = nil },
		"no port":            func(c *peerConfig) { c.Listen.Port = 0 },
		"no directory":       func(c *peerConfig) { c.Dir = "" },
		"directory with ;":   func(c *peerConfig) { c.Dir = "/tmp/x; user root" },
		"backend with space": func(c *peerConfig) { c.Backends = []benchmesh.Addr{{IP: "1.2.3.4 backup", Port: 1}} },
	} {
		c := testConfig
		mod(&c)
		if _, err := nginxConfig(c); err == nil {
			t.Errorf("%s: nginxConfig: no error", name)
		}
		if _, err := haproxyConfig(c, "http"); err == nil {
			t.Errorf("%s: haproxyConfig: no error", name)
		}
	}
	if _, err := haproxyConfig(testConfig, "health"); err == nil {
		t.Error("haproxyConfig accepted mode health")
	}
}
