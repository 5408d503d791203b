package peersbench

import "fmt"

// The TLS peers' configurations: the cross-network path's counterpart, two processes of one
// peer joined by a mutual-TLS hop. The client side listens in plain HTTP, as the
// cross-network waypoints' client side does, and sends every request over a pool of
// keep-alive TLS connections to the backend side, which verifies its client certificate and
// balances round robin over the backends, as the waypoints' backend side does. Both sides
// present the same certificate, verify the other's against the root that issued it and its
// name peerTLSName, and speak TLS 1.3 only, as HBONE does.

// haproxyTLSEntryConfig is the client side's HAProxy in mode http: a frontend on c.Listen
// and a backend of c.Backends, the backend side, reached over TLS with the client
// certificate of f, its connections shared among clients (http-reuse always).
func haproxyTLSEntryConfig(c peerConfig, f tlsFiles) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	return haproxyText(c, "http", haproxyHop{
		backend: []string{"http-reuse always"},
		server:  fmt.Sprintf("ssl verify required ca-file %s crt %s verifyhost %s ssl-min-ver TLSv1.3", f.CA, f.Bundle, peerTLSName),
	})
}

// haproxyTLSExitConfig is the backend side's HAProxy in mode http: a TLS frontend on
// c.Listen requiring a client certificate issued by f's root, balancing round robin over
// c.Backends with keep-alive.
func haproxyTLSExitConfig(c peerConfig, f tlsFiles) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	return haproxyText(c, "http", haproxyHop{
		bind: fmt.Sprintf("ssl crt %s ca-file %s verify required ssl-min-ver TLSv1.3", f.Bundle, f.CA),
	})
}

// nginxTLSEntryConfig is the client side's nginx: a proxy on c.Listen to an upstream of
// c.Backends, the backend side, over keep-alive TLS connections with the client certificate
// of f, verifying the server's.
func nginxTLSEntryConfig(c peerConfig, f tlsFiles) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	return nginxText(c, nginxHop{https: true, location: []string{
		"proxy_ssl_certificate " + f.Cert,
		"proxy_ssl_certificate_key " + f.Key,
		"proxy_ssl_trusted_certificate " + f.CA,
		"proxy_ssl_verify on",
		"proxy_ssl_name " + peerTLSName,
		"proxy_ssl_protocols TLSv1.3",
	}})
}

// nginxTLSExitConfig is the backend side's nginx: a TLS server on c.Listen requiring a
// client certificate issued by f's root, proxying to an upstream of c.Backends over
// keep-alive connections.
func nginxTLSExitConfig(c peerConfig, f tlsFiles) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	return nginxText(c, nginxHop{listen: "ssl", server: []string{
		"ssl_certificate " + f.Cert,
		"ssl_certificate_key " + f.Key,
		"ssl_client_certificate " + f.CA,
		"ssl_verify_client on",
		"ssl_protocols TLSv1.3",
	}})
}

// validate rejects files that would write a broken configuration.
func (f tlsFiles) validate() error {
	for _, p := range f.paths() {
		if p == "" {
			return fmt.Errorf("failed to write TLS peer configuration: a certificate file is missing")
		}
		if err := checkSyntax(p); err != nil {
			return err
		}
	}
	return nil
}
