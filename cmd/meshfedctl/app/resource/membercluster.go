package resource

import (
	"cmp"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// MemberClusters are the clusters joined to the hub; their table is meshfedctl status.
var MemberClusters = &Kind{
	Plural: "memberclusters", Singular: "membercluster", ShortNames: []string{"mc"},
	Noun:      "member cluster",
	newObject: func() client.Object { return &meshfedv1.MemberCluster{} },
	newList:   func() client.ObjectList { return &meshfedv1.MemberClusterList{} },
	columns: []Column{
		{Header: "NAME", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return m.Name })},
		{Header: "READY", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return Ready(m) })},
		{Header: "NETWORK", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return m.Spec.Network })},
		{Header: "REGION", Wide: true, Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return m.Spec.Region })},
		{Header: "SEGMENT", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return Segment(m) })},
		{Header: "LAST SYNC", Cell: mc(func(m *meshfedv1.MemberCluster, now time.Time) string { return LastSync(m.Status.LastSyncTime, now) })},
		{Header: "EXPORTED", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return fmt.Sprint(m.Status.ExportedServices) })},
		{Header: "IMPORTED", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return fmt.Sprint(m.Status.ImportedServices) })},
		{Header: "SECRET", Wide: true, Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return m.Spec.KubeconfigSecretRef.Name })},
		{Header: "REASON", Cell: mc(func(m *meshfedv1.MemberCluster, _ time.Time) string { return Reason(m) })},
		age,
	},
}

func mc(cell func(*meshfedv1.MemberCluster, time.Time) string) func(client.Object, time.Time) string {
	return func(obj client.Object, now time.Time) string { return cell(obj.(*meshfedv1.MemberCluster), now) }
}

// Ready is the Ready condition's status, Unknown when the hub has not reported one.
func Ready(m *meshfedv1.MemberCluster) string {
	c := meta.FindStatusCondition(m.Status.Conditions, string(meshfedv1.MemberClusterConditionReady))
	if c == nil {
		return string(metav1.ConditionUnknown)
	}
	return string(c.Status)
}

// Segment is the cluster's segment, the default one when it names none.
func Segment(m *meshfedv1.MemberCluster) string {
	return cmp.Or(m.Spec.Segment, wellknown.DefaultSegment)
}

// LastSync is the age of the last sync, kubectl style, or "never".
func LastSync(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// Reason explains a cluster that is not ready or not synced: the first of Ready and Synced
// that is not True, as "Reason: message". A healthy cluster gets "-".
func Reason(m *meshfedv1.MemberCluster) string {
	types := []meshfedv1.MemberClusterConditionType{meshfedv1.MemberClusterConditionReady, meshfedv1.MemberClusterConditionSynced}
	for _, t := range types {
		c := meta.FindStatusCondition(m.Status.Conditions, string(t))
		switch {
		case c == nil && t == meshfedv1.MemberClusterConditionReady:
			return "the hub has not reported on this cluster yet"
		case c == nil || c.Status == metav1.ConditionTrue:
			continue
		}
		return c.Reason + ": " + c.Message
	}
	return "-"
}
