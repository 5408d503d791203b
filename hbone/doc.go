// Package hbone opens and terminates HBONE tunnels: HTTP CONNECT over mutual TLS, on HTTP/2
// (TCP) and HTTP/3 (QUIC), authenticated by SPIFFE IDs.
// Waypoints use it to carry TCP connections across network boundaries: a Dialer with a
// connection pool on the sending side, a Server whose handler hook decides every target on the
// receiving side, so that the server is never an open proxy.
package hbone
