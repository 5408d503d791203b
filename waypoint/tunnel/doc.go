// Package tunnel is the waypoint's way to endpoints on other networks: a Dialer opens an HBONE
// tunnel (hbone.Dialer, HTTP/2 or HTTP/3) to an endpoint's ip:port through one of the
// waypoints of its cluster (table.Peers, taken in turn), requiring the peer to present the
// identity its table.Peers carries (the namespace's waypoint, or the shared gateway the
// cluster's record names) and a certificate naming that cluster, within the per-try
// timeout, and carrying the client's address the connection was opened for (WithClientAddr)
// in the Forwarded header. The waypoint's dial decides when to tunnel; this package only
// tunnels.
package tunnel
