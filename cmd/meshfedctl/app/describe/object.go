package describe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/resource"
)

// none is printed for an empty value, as kubectl describe does.
const none = "<none>"

// writeObject prints what the GlobalService object says, kubectl-describe style.
func writeObject(w io.Writer, gs *meshfedv1.GlobalService) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field(tw, "Name", gs.Name)
	field(tw, "Namespace", gs.Namespace)
	field(tw, "Service", gs.Spec.ServiceName)
	field(tw, "Domain", gs.Spec.Domain)
	field(tw, "Hostname", gs.Spec.Hostname)
	field(tw, "Scope", string(gs.Spec.Scope))
	field(tw, "Type", string(gs.Spec.Type))
	field(tw, "Takeover", fmt.Sprint(gs.Spec.Takeover))
	field(tw, "Traffic Distribution", resource.Distribution(&gs.Spec))
	field(tw, "Imported By", list(gs.Status.ImportedBy))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("failed to write global service %s/%s: %w", gs.Namespace, gs.Name, err)
	}
	sections := []func(io.Writer, *meshfedv1.GlobalService) error{writePorts, writeConflicts, writeConditions, writeExports}
	for _, write := range sections {
		if err := write(w, gs); err != nil {
			return fmt.Errorf("failed to write global service %s/%s: %w", gs.Namespace, gs.Name, err)
		}
	}
	return nil
}

// writePorts prints the ports with their waypoint listener ports.
func writePorts(w io.Writer, gs *meshfedv1.GlobalService) error {
	if len(gs.Spec.Ports) == 0 {
		_, err := fmt.Fprintf(w, "Ports: %s\n", none)
		return err
	}
	rows := [][]string{{"NAME", "PORT", "PROTOCOL", "APP PROTOCOL", "WAYPOINT PORT"}}
	for _, p := range gs.Spec.Ports {
		wp := "<not allocated>"
		if p.WaypointPort != 0 {
			wp = fmt.Sprint(p.WaypointPort)
		}
		rows = append(rows, []string{orNone(p.Name), fmt.Sprint(p.Port), orNone(string(p.Protocol)), orNone(p.AppProtocol), wp})
	}
	return table(w, "Ports:", "  ", rows)
}

// writeConflicts prints each conflict between exports.
func writeConflicts(w io.Writer, gs *meshfedv1.GlobalService) error {
	if len(gs.Status.Conflicts) == 0 {
		_, err := fmt.Fprintf(w, "Conflicts: %s\n", none)
		return err
	}
	rows := [][]string{{"REASON", "CLUSTERS", "MESSAGE"}}
	for _, c := range gs.Status.Conflicts {
		rows = append(rows, []string{c.Reason, strings.Join(c.Clusters, ","), oneLine(c.Message)})
	}
	return table(w, "Conflicts:", "  ", rows)
}

// writeConditions prints the status conditions.
func writeConditions(w io.Writer, gs *meshfedv1.GlobalService) error {
	if len(gs.Status.Conditions) == 0 {
		_, err := fmt.Fprintf(w, "Conditions: %s\n", none)
		return err
	}
	rows := [][]string{{"TYPE", "STATUS", "REASON", "MESSAGE"}}
	for _, c := range gs.Status.Conditions {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, oneLine(c.Message)})
	}
	return table(w, "Conditions:", "  ", rows)
}

// writeExports prints the exporting clusters as the hub counted them.
func writeExports(w io.Writer, gs *meshfedv1.GlobalService) error {
	if len(gs.Status.Clusters) == 0 {
		_, err := fmt.Fprintf(w, "Exporting Clusters: %s\n", none)
		return err
	}
	rows := [][]string{{"CLUSTER", "SCOPE", "READY", "NOTES"}}
	for _, c := range gs.Status.Clusters {
		var notes []string
		if c.Stale {
			notes = append(notes, "stale (cluster unreachable, endpoints kept)")
		}
		if c.WaypointMissing {
			notes = append(notes, "no waypoint in namespace")
		}
		rows = append(rows, []string{c.Name, string(c.Scope), fmt.Sprintf("%d/%d", c.ReadyEndpoints, c.Endpoints), list(notes)})
	}
	return table(w, "Exporting Clusters:", "  ", rows)
}
