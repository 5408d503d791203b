// Package dnsbench is `meshfed-bench dns`: queries per second and latency of meshfed-dns against
// CoreDNS serving the same names from zone files (its file plugin), side by side in one run with
// one load generator, rounds alternated; and the memory meshfed-dns uses per 10,000 global
// services.
package dnsbench
