package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/writeback"
)

func TestSetWriteBackStatus(t *testing.T) {
	tests := []struct {
		name        string
		imports     []writeback.Import
		wantStatus  metav1.ConditionStatus
		wantReason  meshfedv1.GlobalServiceConditionReason
		wantMessage string
		wantMissing map[string]bool
	}{
		{name: "all ready", imports: []writeback.Import{{Cluster: "east-1"}, {Cluster: "west-1"}},
			wantStatus: metav1.ConditionTrue, wantReason: meshfedv1.GlobalServiceReasonWaypointsReady, wantMessage: "every importing cluster has a ready waypoint",
			wantMissing: map[string]bool{}},
		{name: "no imports", wantStatus: metav1.ConditionTrue, wantReason: meshfedv1.GlobalServiceReasonWaypointsReady,
			wantMessage: "every importing cluster has a ready waypoint", wantMissing: map[string]bool{}},
		{name: "waypoint missing in an exporter and an importer", imports: []writeback.Import{{Cluster: "east-1", WaypointMissing: true}, {Cluster: "north-1", NamespaceMissing: true}},
			wantStatus: metav1.ConditionFalse, wantReason: meshfedv1.GlobalServiceReasonWaypointMissing,
			wantMessage: "no waypoint in namespace shop of: east-1, north-1 (no namespace)", wantMissing: map[string]bool{"east-1": true}},
		{name: "name clash wins", imports: []writeback.Import{{Cluster: "east-1", WaypointMissing: true}, {Cluster: "west-1", Clashes: []string{"Service shop/web-global"}}},
			wantStatus: metav1.ConditionFalse, wantReason: meshfedv1.GlobalServiceReasonNameClash,
			wantMessage: "names taken by objects meshfed does not own, left alone: west-1: Service shop/web-global", wantMissing: map[string]bool{"east-1": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := &meshfedv1.GlobalService{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
			gs.Status.Clusters = []meshfedv1.ClusterExportStatus{{Name: "east-1"}, {Name: "west-1"}}
			setWriteBackStatus(gs, tt.imports)
			c := meta.FindStatusCondition(gs.Status.Conditions, string(meshfedv1.GlobalServiceConditionWaypointReady))
			if c == nil {
				t.Fatal("no WaypointReady condition")
			}
			if c.Status != tt.wantStatus || c.Reason != string(tt.wantReason) || c.Message != tt.wantMessage {
				t.Errorf("condition %s/%s %q, want %s/%s %q", c.Status, c.Reason, c.Message, tt.wantStatus, tt.wantReason, tt.wantMessage)
			}
			for _, cs := range gs.Status.Clusters {
				if cs.WaypointMissing != tt.wantMissing[cs.Name] {
					t.Errorf("cluster %s waypointMissing = %v, want %v", cs.Name, cs.WaypointMissing, tt.wantMissing[cs.Name])
				}
			}
		})
	}
}
