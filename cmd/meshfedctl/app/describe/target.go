package describe

import (
	"fmt"
	"strings"
)

// viewpoint is the client a --from flag names: a member cluster and, optionally, a zone in it.
type viewpoint struct {
	Cluster string
	Zone    string
}

// parseViewpoint parses CLUSTER[/ZONE].
func parseViewpoint(arg string) (viewpoint, error) {
	cluster, zone, hasZone := strings.Cut(arg, "/")
	if cluster == "" || (hasZone && (zone == "" || strings.Contains(zone, "/"))) {
		return viewpoint{}, fmt.Errorf("failed to parse --from %q: want CLUSTER or CLUSTER/ZONE", arg)
	}
	return viewpoint{Cluster: cluster, Zone: zone}, nil
}
