package describe

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// viewpoint is the client a --from flag names: a member cluster and, optionally, a zone in it.
type viewpoint struct {
	Cluster string
	Zone    string
}

// parseName parses NAMESPACE/NAME.
func parseName(arg string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(arg, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("failed to parse global service %q: want NAMESPACE/NAME", arg)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// parseViewpoint parses CLUSTER[/ZONE].
func parseViewpoint(arg string) (viewpoint, error) {
	cluster, zone, hasZone := strings.Cut(arg, "/")
	if cluster == "" || (hasZone && (zone == "" || strings.Contains(zone, "/"))) {
		return viewpoint{}, fmt.Errorf("failed to parse --from %q: want CLUSTER or CLUSTER/ZONE", arg)
	}
	return viewpoint{Cluster: cluster, Zone: zone}, nil
}
