// Package app is meshfed-dns: its options, and Run, which wires the ServiceImport watch
// (federation/dns/source) to the DNS server (federation/dns/server) and serves /healthz,
// /readyz and /metrics.
package app
