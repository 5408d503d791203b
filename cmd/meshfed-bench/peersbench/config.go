package peersbench

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
)

// Timeouts written into the peers' configurations: generous, so that they never end a
// connection the generator keeps alive, and bounded.
const (
	peerConnectTimeout = "5s"
	peerIdleTimeout    = "60s"
	// peerKeepaliveRequests lifts nginx's default of 1,000 requests per keep-alive connection,
	// which would make it reconnect during a round while the waypoint and HAProxy do not.
	peerKeepaliveRequests = 1_000_000
	// peerMaxConn bounds the connections of each peer, as the generator bounds its own.
	peerMaxConn = 4096
)

// peerConfig is what a peer's configuration is made of: where it listens, where it sends,
// how many workers (threads or processes) it runs, and its private directory.
type peerConfig struct {
	Listen   benchmesh.Addr
	Backends []benchmesh.Addr
	Workers  int
	Dir      string
}

// haproxyConfig is HAProxy's configuration: one frontend on Listen and a round-robin
// backend of Backends, in mode http (a request at a time, keep-alive on both sides) or tcp
// (a connection at a time), with nbthread Workers threads and no logging.
func haproxyConfig(c peerConfig, mode string) (string, error) {
	if mode != "http" && mode != "tcp" {
		return "", fmt.Errorf("failed to write haproxy configuration: mode %q, want http or tcp", mode)
	}
	return haproxyText(c, mode, haproxyHop{})
}

// haproxyHop is what a TLS hop adds to HAProxy's configuration: options of the frontend's
// bind, lines at the head of the backend, and options of each server. Empty, it adds nothing.
type haproxyHop struct {
	bind    string
	backend []string
	server  string
}

// haproxyText writes haproxyConfig's configuration with hop's additions.
func haproxyText(c peerConfig, mode string, hop haproxyHop) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    nbthread %d\n    maxconn %d\n\n", c.Workers, peerMaxConn)
	fmt.Fprintf(&b, "defaults\n    mode %s\n    timeout connect %s\n    timeout client %s\n    timeout server %s\n", mode, peerConnectTimeout, peerIdleTimeout, peerIdleTimeout)
	if mode == "http" {
		fmt.Fprintf(&b, "    timeout http-keep-alive %s\n    option http-keep-alive\n", peerIdleTimeout)
	}
	fmt.Fprintf(&b, "\nfrontend peers\n    bind %s%s\n    default_backend backends\n\n", benchmesh.HostPort(c.Listen.IP, c.Listen.Port), options(hop.bind))
	b.WriteString("backend backends\n    balance roundrobin\n")
	for _, l := range hop.backend {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	for i, be := range c.Backends {
		fmt.Fprintf(&b, "    server b%d %s%s\n", i+1, benchmesh.HostPort(be.IP, be.Port), options(hop.server))
	}
	return b.String(), nil
}

// options is opts after the space that separates them from what they follow, or nothing.
func options(opts string) string {
	if opts == "" {
		return ""
	}
	return " " + opts
}

// nginxConfig is nginx's configuration: a master in the foreground with Workers worker
// processes, an HTTP/1.1 proxy on Listen to a round-robin upstream of Backends over
// keep-alive connections, no access log, every path it writes under Dir.
func nginxConfig(c peerConfig) (string, error) { return nginxText(c, nginxHop{}) }

// nginxHop is what a TLS hop adds to nginx's configuration: options of the listen
// directive, lines of the server block before its location, proxy_pass to https rather than
// http, and lines at the end of the location. Empty, it adds nothing.
type nginxHop struct {
	listen   string
	server   []string
	https    bool
	location []string
}

// nginxText writes nginxConfig's configuration with hop's additions.
func nginxText(c peerConfig, hop nginxHop) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "daemon off;\nmaster_process on;\nworker_processes %d;\npid %s;\nerror_log stderr warn;\n\n", c.Workers, filepath.Join(c.Dir, "nginx.pid"))
	fmt.Fprintf(&b, "events {\n    worker_connections %d;\n}\n\n", peerMaxConn)
	b.WriteString("http {\n    access_log off;\n")
	fmt.Fprintf(&b, "    client_body_temp_path %s;\n    proxy_temp_path %s;\n", filepath.Join(c.Dir, "body"), filepath.Join(c.Dir, "proxy"))
	fmt.Fprintf(&b, "    keepalive_timeout %s;\n    keepalive_requests %d;\n\n", peerIdleTimeout, peerKeepaliveRequests)
	b.WriteString("    upstream backends {\n")
	for _, be := range c.Backends {
		fmt.Fprintf(&b, "        server %s;\n", benchmesh.HostPort(be.IP, be.Port))
	}
	fmt.Fprintf(&b, "        keepalive 64;\n        keepalive_requests %d;\n    }\n\n", peerKeepaliveRequests)
	fmt.Fprintf(&b, "    server {\n        listen %s%s;\n", benchmesh.HostPort(c.Listen.IP, c.Listen.Port), options(hop.listen))
	for _, l := range hop.server {
		fmt.Fprintf(&b, "        %s;\n", l)
	}
	scheme := "http"
	if hop.https {
		scheme = "https"
	}
	fmt.Fprintf(&b, "        location / {\n            proxy_pass %s://backends;\n", scheme)
	fmt.Fprintf(&b, "            proxy_http_version 1.1;\n            proxy_set_header Connection \"\";\n            proxy_connect_timeout %s;\n", peerConnectTimeout)
	for _, l := range hop.location {
		fmt.Fprintf(&b, "            %s;\n", l)
	}
	b.WriteString("        }\n    }\n}\n")
	return b.String(), nil
}

// validate rejects what would write a broken configuration.
func (c peerConfig) validate() error {
	switch {
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("failed to write peer configuration: %d workers, want 1..%d", c.Workers, maxWorkers)
	case len(c.Backends) == 0:
		return fmt.Errorf("failed to write peer configuration: no backends")
	case c.Listen.Port <= 0 || c.Dir == "":
		return fmt.Errorf("failed to write peer configuration: no listen port or directory")
	}
	for _, s := range append([]string{c.Dir, c.Listen.IP}, backendIPs(c.Backends)...) {
		if err := checkSyntax(s); err != nil {
			return err
		}
	}
	return nil
}

// checkSyntax rejects a value holding a character the peers' configuration syntax reserves.
func checkSyntax(s string) error {
	if strings.ContainsAny(s, " \t\n;{}\"'#") {
		return fmt.Errorf("failed to write peer configuration: %q holds a character the configuration syntax reserves", s)
	}
	return nil
}

// backendIPs are the addresses of bs, for validation.
func backendIPs(bs []benchmesh.Addr) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.IP
	}
	return out
}
