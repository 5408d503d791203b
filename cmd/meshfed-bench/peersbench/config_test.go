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

// testTLS are the TLS peers' files of the golden configurations.
var testTLS = tlsFiles{
	Cert: "/tmp/peers/peer-certs/tls.crt", Key: "/tmp/peers/peer-certs/tls.key",
	Bundle: "/tmp/peers/peer-certs/tls.pem", CA: "/tmp/peers/peer-certs/ca.crt",
}

// testExit is the TLS peers' backend side, where the client side of the golden
// configurations sends.
var testExit = benchmesh.Addr{IP: "127.0.0.51", Port: 8443}

// TestConfigsGolden pins the generated configurations; the smoke test shows that the real
// haproxy and nginx accept them.
func TestConfigsGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		gen  func(peerConfig) (string, error)
	}{
		{"haproxy_http", func(c peerConfig) (string, error) { return haproxyConfig(c, "http") }},
		{"haproxy_tcp", func(c peerConfig) (string, error) { return haproxyConfig(c, "tcp") }},
		{"nginx", nginxConfig},
		{"haproxy_tls_entry", func(c peerConfig) (string, error) {
			c.Backends = []benchmesh.Addr{testExit}
			return haproxyTLSEntryConfig(c, testTLS)
		}},
		{"haproxy_tls_exit", func(c peerConfig) (string, error) {
			c.Listen = testExit
			return haproxyTLSExitConfig(c, testTLS)
		}},
		{"nginx_tls_entry", func(c peerConfig) (string, error) {
			c.Backends = []benchmesh.Addr{testExit}
			return nginxTLSEntryConfig(c, testTLS)
		}},
		{"nginx_tls_exit", func(c peerConfig) (string, error) {
			c.Listen = testExit
			return nginxTLSExitConfig(c, testTLS)
		}},
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

// tlsConfigs are the four TLS peers' configuration writers, by name.
var tlsConfigs = map[string]func(peerConfig, tlsFiles) (string, error){
	"haproxyTLSEntryConfig": haproxyTLSEntryConfig, "haproxyTLSExitConfig": haproxyTLSExitConfig,
	"nginxTLSEntryConfig": nginxTLSEntryConfig, "nginxTLSExitConfig": nginxTLSExitConfig,
}

// TestTLSConfigsRejectBadInput: the TLS peers' configurations refuse a missing certificate
// file or a path the syntax reserves, as well as a bad peer configuration.
func TestTLSConfigsRejectBadInput(t *testing.T) {
	for name, mod := range map[string]func(*peerConfig, *tlsFiles){
		"no workers":          func(c *peerConfig, _ *tlsFiles) { c.Workers = 0 },
		"no ca":               func(_ *peerConfig, f *tlsFiles) { f.CA = "" },
		"no bundle":           func(_ *peerConfig, f *tlsFiles) { f.Bundle = "" },
		"key with ;":          func(_ *peerConfig, f *tlsFiles) { f.Key = "/tmp/k; ssl_verify_client off" },
		"certificate with #":  func(_ *peerConfig, f *tlsFiles) { f.Cert = "/tmp/#c" },
		"bundle with a space": func(_ *peerConfig, f *tlsFiles) { f.Bundle = "/tmp/b verify none" },
	} {
		for fn, gen := range tlsConfigs {
			c, f := testConfig, testTLS
			mod(&c, &f)
			if _, err := gen(c, f); err == nil {
				t.Errorf("%s: %s: no error", name, fn)
			}
		}
	}
}

// TestTLSConfigsHop: every TLS configuration is mutual TLS 1.3 with the given files, and
// names the other side's certificate where it is the client.
func TestTLSConfigsHop(t *testing.T) {
	for fn, want := range map[string][]string{
		"haproxyTLSEntryConfig": {"http-reuse always\n", " ssl verify required ca-file " + testTLS.CA, "crt " + testTLS.Bundle, "verifyhost " + peerTLSName, "ssl-min-ver TLSv1.3\n"},
		"haproxyTLSExitConfig":  {" ssl crt " + testTLS.Bundle + " ca-file " + testTLS.CA + " verify required ssl-min-ver TLSv1.3\n"},
		"nginxTLSEntryConfig":   {"proxy_pass https://backends;", "proxy_ssl_verify on;", "proxy_ssl_certificate " + testTLS.Cert + ";", "proxy_ssl_name " + peerTLSName + ";", "proxy_ssl_protocols TLSv1.3;", "keepalive 64;"},
		"nginxTLSExitConfig":    {" ssl;\n", "ssl_verify_client on;", "ssl_client_certificate " + testTLS.CA + ";", "ssl_protocols TLSv1.3;", "proxy_pass http://backends;"},
	} {
		got, err := tlsConfigs[fn](testConfig, testTLS)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", fn, w, got)
			}
		}
	}
}
