package membership

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

func memberCluster(name, network, segment, probedID, joinedID string) meshfedv1.MemberCluster {
	mc := meshfedv1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       meshfedv1.MemberClusterSpec{Network: network, Segment: segment},
		Status:     meshfedv1.MemberClusterStatus{ClusterID: probedID},
	}
	if joinedID != "" {
		mc.Annotations = map[string]string{wellknown.ClusterIDAnnotation: joinedID}
	}
	return mc
}

func TestDuplicateOf(t *testing.T) {
	members := []meshfedv1.MemberCluster{
		memberCluster("east-1", "net-a", "", "uid-1", ""),
		memberCluster("west-1", "net-b", "", "", "uid-2"),
	}
	tests := []struct {
		name, join, id, want string
	}{
		{"new cluster", "north-1", "uid-3", ""},
		{"same name is not a duplicate", "east-1", "uid-1", ""},
		{"probed ID under another name", "alias", "uid-1", "east-1"},
		{"recorded ID before the hub probed", "alias", "uid-2", "west-1"},
		{"unknown ID never matches", "alias", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DuplicateOf(members, tt.join, tt.id); got != tt.want {
				t.Errorf("DuplicateOf(%s, %s) = %q, want %q", tt.join, tt.id, got, tt.want)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	cur := memberCluster("east-1", "net-a", "", "uid-1", "uid-1")
	tests := []struct {
		name string
		o    Options
		want []Change
	}{
		{"same", Options{Network: "net-a", Segment: "default", ClusterID: "uid-1"}, nil},
		{"region changes freely", Options{Network: "net-a", Region: "eu", ClusterID: "uid-1"}, nil},
		{"network", Options{Network: "net-b", ClusterID: "uid-1"}, []Change{{"network", "net-a", "net-b"}}},
		{"segment", Options{Network: "net-a", Segment: "west", ClusterID: "uid-1"}, []Change{{"segment", "default", "west"}}},
		{"another cluster", Options{Network: "net-a", ClusterID: "uid-9"}, []Change{{"cluster ID", "uid-1", "uid-9"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Changes(&cur, tt.o); !slices.Equal(got, tt.want) {
				t.Errorf("Changes = %v, want %v", got, tt.want)
			}
		})
	}
	legacy := memberCluster("east-1", "net-a", "", "", "")
	if got := Changes(&legacy, Options{Network: "net-a", ClusterID: "uid-1"}); got != nil {
		t.Errorf("a member joined before cluster IDs were recorded: Changes = %v, want none", got)
	}
}
