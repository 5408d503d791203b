package resource

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// maxClusterNames is how many exporting clusters a row names before it counts the rest.
const maxClusterNames = 3

// GlobalServices are the hub's GlobalService mirrors of merged global services.
var GlobalServices = &Kind{
	Plural: "globalservices", Singular: "globalservice", ShortNames: []string{"gs", "gsvc"},
	Namespaced: true, Noun: "global service",
	newObject: func() client.Object { return &meshfedv1.GlobalService{} },
	newList:   func() client.ObjectList { return &meshfedv1.GlobalServiceList{} },
	columns: []Column{
		{Header: "NAME", Cell: gs(func(g *meshfedv1.GlobalService) string { return g.Name })},
		{Header: "HOSTNAME", Cell: gs(func(g *meshfedv1.GlobalService) string { return g.Spec.Hostname })},
		{Header: "SCOPE", Cell: gs(func(g *meshfedv1.GlobalService) string { return string(g.Spec.Scope) })},
		{Header: "CLUSTERS", Cell: gs(func(g *meshfedv1.GlobalService) string { return exporters(g.Status.Clusters, maxClusterNames) })},
		{Header: "ENDPOINTS", Cell: gs(func(g *meshfedv1.GlobalService) string {
			return fmt.Sprintf("%d/%d", g.Status.ReadyEndpoints, g.Status.Endpoints)
		})},
		{Header: "CONFLICT", Cell: gs(func(g *meshfedv1.GlobalService) string { return Conflict(&g.Status) })},
		{Header: "TYPE", Wide: true, Cell: gs(func(g *meshfedv1.GlobalService) string { return string(g.Spec.Type) })},
		{Header: "DISTRIBUTION", Wide: true, Cell: gs(func(g *meshfedv1.GlobalService) string { return Distribution(&g.Spec) })},
		{Header: "PORTS", Wide: true, Cell: gs(func(g *meshfedv1.GlobalService) string { return ports(g.Spec.Ports) })},
		{Header: "ALL CLUSTERS", Wide: true, Cell: gs(func(g *meshfedv1.GlobalService) string { return exporters(g.Status.Clusters, 0) })},
		{Header: "IMPORTED BY", Wide: true, Cell: gs(func(g *meshfedv1.GlobalService) string { return strings.Join(g.Status.ImportedBy, ",") })},
		age,
	},
}

// gs adapts a GlobalService cell function to a column.
func gs(cell func(*meshfedv1.GlobalService) string) func(client.Object, time.Time) string {
	return func(obj client.Object, _ time.Time) string { return cell(obj.(*meshfedv1.GlobalService)) }
}

// exporters names the exporting clusters, sorted, marking stale ones; past limit (0: no
// limit) it counts the rest ("a,b,c+2").
func exporters(exports []meshfedv1.ClusterExportStatus, limit int) string {
	names := make([]string, 0, len(exports))
	for _, e := range exports {
		name := e.Name
		if e.Stale {
			name += "(stale)"
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if limit == 0 || len(names) <= limit {
		return strings.Join(names, ",")
	}
	return fmt.Sprintf("%s+%d", strings.Join(names[:limit], ","), len(names)-limit)
}

// Conflict is the reason of a True Conflict condition, else of the first recorded conflict,
// else "none".
func Conflict(st *meshfedv1.GlobalServiceStatus) string {
	if c := meta.FindStatusCondition(st.Conditions, string(meshfedv1.GlobalServiceConditionConflict)); c != nil && c.Status == metav1.ConditionTrue {
		return c.Reason
	}
	if len(st.Conflicts) > 0 {
		return st.Conflicts[0].Reason
	}
	return "none"
}

// Distribution renders the traffic distribution, with its key list for FailoverPriority.
func Distribution(spec *meshfedv1.GlobalServiceSpec) string {
	if len(spec.FailoverPriority) > 0 {
		return fmt.Sprintf("%s (%s)", spec.TrafficDistribution, strings.Join(spec.FailoverPriority, ","))
	}
	return string(spec.TrafficDistribution)
}

// ports renders ports as port/protocol→waypoint port: "80/TCP→20000".
func ports(ps []meshfedv1.GlobalServicePort) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		s := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.WaypointPort != 0 {
			s += fmt.Sprintf("→%d", p.WaypointPort)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}
