package writeback

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
)

func TestExportConditions(t *testing.T) {
	clusterIP := &corev1.Service{}
	external := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName}}
	merged := &model.GlobalService{Hostname: "web.shop.mesh.internal"}
	conflicted := &model.GlobalService{Hostname: "web.shop.mesh.internal", Conflicts: []model.Conflict{
		{Reason: model.ReasonPortConflict, Message: "port 80 differs", Clusters: []string{"east-1", "west-1"}},
		{Reason: model.ReasonTypeConflict, Message: "west-1 is headless", Clusters: []string{"east-1", "west-1"}},
		{Reason: model.ReasonTrafficDistributionConflict, Message: "north-1 asks for Any", Clusters: []string{"north-1"}},
	}}
	bad := []member.ValueProblem{{Reason: meshfedv1.GlobalServiceReasonInvalidScope, Message: "unknown scope planet"}}
	tests := []struct {
		name string
		svc  *corev1.Service
		st   ExportState
		want [3]string // Valid, Ready, Conflict as status/reason
	}{
		{"no service", nil, ExportState{}, [3]string{"False/NoService", "False/Failed", "False/NoConflicts"}},
		{"external name", external, ExportState{}, [3]string{"False/InvalidServiceType", "False/Failed", "False/NoConflicts"}},
		{"unusable value", clusterIP, ExportState{Problems: bad}, [3]string{"False/InvalidScope", "False/Failed", "False/NoConflicts"}},
		{"not merged yet", clusterIP, ExportState{}, [3]string{"True/Valid", "False/Pending", "False/NoConflicts"}},
		{"exported", clusterIP, ExportState{Global: merged}, [3]string{"True/Valid", "True/Exported", "False/NoConflicts"}},
		{"exported despite a warning", clusterIP, ExportState{Global: merged, Problems: bad}, [3]string{"True/Valid", "True/Exported", "False/NoConflicts"}},
		{"in two conflicts", clusterIP, ExportState{Global: conflicted}, [3]string{"True/Valid", "True/Exported", "True/PortConflict,TypeConflict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exportConditions("east-1", tt.svc, tt.st)
			if len(got) != 3 {
				t.Fatalf("got %d conditions, want 3", len(got))
			}
			for i, typ := range []string{"Valid", "Ready", "Conflict"} {
				if got[i].Type != typ || fmt.Sprintf("%s/%s", got[i].Status, got[i].Reason) != tt.want[i] {
					t.Errorf("condition %d = %s %s/%s, want %s %s", i, got[i].Type, got[i].Status, got[i].Reason, typ, tt.want[i])
				}
			}
		})
	}
	// Only the conflicts naming the cluster are raised, with their messages.
	c := exportConditions("north-1", clusterIP, ExportState{Global: conflicted})[2]
	if c.Status != metav1.ConditionTrue || c.Reason != "TrafficDistributionConflict" || c.Message != "north-1 asks for Any" {
		t.Errorf("north-1 conflict = %+v", c)
	}
}
