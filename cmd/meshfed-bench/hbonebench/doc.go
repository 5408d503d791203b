// Package hbonebench measures HBONE tunnels against plain TCP and plain TLS 1.3 on loopback:
// throughput, 1 KiB round-trip latency and tunnel setup time.
// It backs `meshfed-bench hbone`, so that the figures in the docs come from one reproducible run.
package hbonebench
