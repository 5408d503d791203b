package benchmesh

import (
	"path/filepath"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Waypoint is one meshfed-waypoint process of a benchmark's mesh.
type Waypoint struct {
	Name      string
	Cluster   string
	Network   string
	Listen    string // outbound listeners' host
	Inbound   bool   // serves HBONE at the address given to Args
	Transport string // outbound tunnel transport, h2 or h3
}

// Args are the command line of w's process: the store at etcd, the certificates of its
// cluster under certDir, HBONE at hboneAddr when w is Inbound, and the admin server with
// the profiling handlers at adminAddr when that is not empty.
func (w Waypoint) Args(etcd []string, certDir, hboneAddr, adminAddr string) []string {
	if !w.Inbound {
		hboneAddr = "0"
	}
	a := []string{"--admin-address", "0"}
	if adminAddr != "" {
		a = []string{"--admin-address", adminAddr, "--profiling"}
	}
	a = append(a,
		"--namespace", Namespace, "--cluster", w.Cluster, "--network", w.Network,
		"--region", "r1", "--zone", "z1", "--node", "bench",
		"--listen-host", w.Listen, "--log-level", "warn", "--allow-loopback-endpoints",
		"--trust-domain", TrustDomain, "--hbone-address", hboneAddr, "--hbone-transport", w.Transport,
		"--cert-file", filepath.Join(certDir, w.Cluster, identity.CertFileName),
		"--key-file", filepath.Join(certDir, w.Cluster, identity.KeyFileName),
		"--ca-file", filepath.Join(certDir, w.Cluster, identity.CAFileName),
	)
	for _, e := range etcd {
		a = append(a, "--etcd-endpoints", e)
	}
	return a
}
