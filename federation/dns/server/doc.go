// Package server serves a zone.Table over DNS, on UDP and TCP, with github.com/miekg/dns: each
// query is answered from the table published last, read through an atomic pointer, so a new
// table never blocks a query and a query never sees half of one. It counts answers by rcode
// for Prometheus and shuts down gracefully.
package server
