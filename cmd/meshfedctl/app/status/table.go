package status

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// header names the columns of the status table.
var header = []string{"NAME", "READY", "NETWORK", "SEGMENT", "LAST SYNC", "EXPORTED", "IMPORTED", "REASON"}

// writeTable prints one row per cluster, sorted by name; ages are relative to now.
func writeTable(w io.Writer, clusters []meshfedv1.MemberCluster, now time.Time) error {
	sorted := slices.Clone(clusters)
	slices.SortFunc(sorted, func(a, b meshfedv1.MemberCluster) int { return strings.Compare(a.Name, b.Name) })
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i := range sorted {
		fmt.Fprintln(tw, strings.Join(row(&sorted[i], now), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("failed to write status table: %w", err)
	}
	return nil
}

// row is one cluster's cells, in header order.
func row(mc *meshfedv1.MemberCluster, now time.Time) []string {
	return []string{
		mc.Name,
		readyStatus(mc),
		mc.Spec.Network,
		orDefault(mc.Spec.Segment, wellknown.DefaultSegment),
		lastSync(mc.Status.LastSyncTime, now),
		fmt.Sprint(mc.Status.ExportedServices),
		fmt.Sprint(mc.Status.ImportedServices),
		reason(mc),
	}
}

// readyStatus is the Ready condition's status, Unknown when the hub has not reported one.
func readyStatus(mc *meshfedv1.MemberCluster) string {
	c := meta.FindStatusCondition(mc.Status.Conditions, string(meshfedv1.MemberClusterConditionReady))
	if c == nil {
		return string(metav1.ConditionUnknown)
	}
	return string(c.Status)
}

// lastSync is the age of the last sync, kubectl style, or "never".
func lastSync(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// reason explains a cluster that is not ready or not synced: the first of Ready and Synced that
// is not True, as "Reason: message". A healthy cluster gets "-".
func reason(mc *meshfedv1.MemberCluster) string {
	types := []meshfedv1.MemberClusterConditionType{meshfedv1.MemberClusterConditionReady, meshfedv1.MemberClusterConditionSynced}
	for _, t := range types {
		c := meta.FindStatusCondition(mc.Status.Conditions, string(t))
		switch {
		case c == nil && t == meshfedv1.MemberClusterConditionReady:
			return "the hub has not reported on this cluster yet"
		case c == nil || c.Status == metav1.ConditionTrue:
			continue
		}
		return oneLine(c.Reason + ": " + c.Message)
	}
	return "-"
}

// oneLine keeps a message from breaking the table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
