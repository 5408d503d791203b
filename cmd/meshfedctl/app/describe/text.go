package describe

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/resource"
)

// writeText describes a member cluster or a segment, kubectl-describe style; wide adds the
// object's metadata.
func writeText(w io.Writer, obj client.Object, wide bool) error {
	var err error
	switch o := obj.(type) {
	case *meshfedv1.MemberCluster:
		err = writeMemberCluster(w, o)
	case *meshfedv1.Segment:
		err = writeSegment(w, o)
	default:
		err = fmt.Errorf("no description for %T", obj)
	}
	if err == nil && wide {
		err = writeMeta(w, obj)
	}
	if err != nil {
		return fmt.Errorf("failed to describe %s: %w", obj.GetName(), err)
	}
	return nil
}

func writeMemberCluster(w io.Writer, mc *meshfedv1.MemberCluster) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field(tw, "Name", mc.Name)
	field(tw, "Network", mc.Spec.Network)
	field(tw, "Region", mc.Spec.Region)
	field(tw, "Segment", resource.Segment(mc))
	field(tw, "Kubeconfig Secret", mc.Spec.KubeconfigSecretRef.Name+"/"+mc.Spec.KubeconfigSecretRef.Key)
	field(tw, "Ready", resource.Ready(mc))
	field(tw, "Last Sync", lastSync(mc.Status.LastSyncTime))
	field(tw, "Exported Services", fmt.Sprint(mc.Status.ExportedServices))
	field(tw, "Imported Services", fmt.Sprint(mc.Status.ImportedServices))
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeConditionList(w, mc.Status.Conditions)
}

func writeSegment(w io.Writer, s *meshfedv1.Segment) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field(tw, "Name", s.Name)
	field(tw, "Domain", resource.SegmentDomain(s))
	field(tw, "Clusters", list(s.Status.Clusters))
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeConditionList(w, s.Status.Conditions)
}

// writeConditionList prints status conditions as a table.
func writeConditionList(w io.Writer, conds []metav1.Condition) error {
	if len(conds) == 0 {
		_, err := fmt.Fprintf(w, "Conditions: %s\n", none)
		return err
	}
	rows := [][]string{{"TYPE", "STATUS", "REASON", "MESSAGE"}}
	for _, c := range conds {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, oneLine(c.Message)})
	}
	return table(w, "Conditions:", "  ", rows)
}

// writeMeta prints the labels, annotations and creation time (-o wide).
func writeMeta(w io.Writer, obj client.Object) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field(tw, "Labels", keyValues(obj.GetLabels()))
	field(tw, "Annotations", keyValues(obj.GetAnnotations()))
	field(tw, "Created", obj.GetCreationTimestamp().UTC().Format(time.RFC3339))
	return tw.Flush()
}

// keyValues renders a map sorted by key as "k=v, k=v".
func keyValues(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// lastSync is the time of the last sync, or never.
func lastSync(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
