// Package loadgen is the load every meshfed-bench HTTP benchmark sends and the backend that
// answers it: a 1 KiB POST answered with 1 KiB over HTTP/1.1 keep-alive, sent open loop at a
// fixed rate or closed loop at the highest rate, summarized the same way for every path.
package loadgen
