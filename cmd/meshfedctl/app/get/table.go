package get

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// maxClusterNames is how many exporting clusters a row names before it summarizes the rest.
const maxClusterNames = 3

// header names the columns of the global services table.
var header = []string{"NAMESPACE", "NAME", "HOSTNAME", "SCOPE", "CLUSTERS", "ENDPOINTS", "CONFLICT"}

// writeTable prints one row per global service, sorted by namespace and name.
func writeTable(w io.Writer, services []meshfedv1.GlobalService) error {
	sorted := slices.Clone(services)
	slices.SortFunc(sorted, func(a, b meshfedv1.GlobalService) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i := range sorted {
		fmt.Fprintln(tw, strings.Join(row(&sorted[i]), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("failed to write global services table: %w", err)
	}
	return nil
}

// row is one global service's cells, in header order.
func row(gs *meshfedv1.GlobalService) []string {
	return []string{
		gs.Namespace,
		gs.Name,
		gs.Spec.Hostname,
		string(gs.Spec.Scope),
		clusters(gs.Status.Clusters),
		fmt.Sprintf("%d/%d", gs.Status.ReadyEndpoints, gs.Status.Endpoints),
		conflict(&gs.Status),
	}
}

// clusters names the exporting clusters, sorted, marking stale ones; past maxClusterNames it
// counts the rest ("a,b,c+2").
func clusters(exports []meshfedv1.ClusterExportStatus) string {
	if len(exports) == 0 {
		return "<none>"
	}
	names := make([]string, 0, len(exports))
	for _, e := range exports {
		name := e.Name
		if e.Stale {
			name += "(stale)"
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) <= maxClusterNames {
		return strings.Join(names, ",")
	}
	return fmt.Sprintf("%s+%d", strings.Join(names[:maxClusterNames], ","), len(names)-maxClusterNames)
}

// conflict is the reason of a True Conflict condition, else of the first recorded conflict,
// else "none".
func conflict(st *meshfedv1.GlobalServiceStatus) string {
	if c := meta.FindStatusCondition(st.Conditions, string(meshfedv1.GlobalServiceConditionConflict)); c != nil && c.Status == metav1.ConditionTrue {
		return c.Reason
	}
	if len(st.Conflicts) > 0 {
		return st.Conflicts[0].Reason
	}
	return "none"
}
