package merge

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// props builds ServiceProperties for the properties tests; timeout 0 means unset.
func props(affinity string, timeout int32, policy, distribution string, families ...string) model.ServiceProperties {
	p := model.ServiceProperties{SessionAffinity: affinity, InternalTrafficPolicy: policy, TrafficDistribution: distribution, IPFamilies: families}
	if timeout != 0 {
		p.SessionAffinityTimeout = &timeout
	}
	return p
}

// TestProperties covers the merge of the fields a ServiceImport repeats: the oldest export
// that sets a field wins (ties by cluster name), the affinity timeout comes with its
// affinity, unset fields neither win nor conflict, and disagreements carry the MCS reasons.
func TestProperties(t *testing.T) {
	tests := []struct {
		name string
		// a and b are the properties of clusters e1 and e2, created at ageA and ageB.
		a, b       model.ServiceProperties
		ageA, ageB int
		want       model.ServiceProperties
		// wantConflicts maps each conflict reason to substrings of its message.
		wantConflicts map[model.ConflictReason][]string
	}{
		{name: "agree", a: props("ClientIP", 10, "Cluster", "PreferClose", "IPv4"), b: props("ClientIP", 10, "Cluster", "PreferClose", "IPv4"),
			want: props("ClientIP", 10, "Cluster", "PreferClose", "IPv4")},
		{name: "nothing set", want: props("", 0, "", "")},
		{name: "unset never conflicts: an old store record", a: props("", 0, "", ""), b: props("ClientIP", 10, "Local", "PreferClose", "IPv6"), ageA: 0, ageB: 1,
			want: props("ClientIP", 10, "Local", "PreferClose", "IPv6")},
		{name: "affinity differs: the oldest wins with its timeout", a: props("None", 0, "Cluster", ""), b: props("ClientIP", 10, "Cluster", ""), ageA: 3, ageB: 1,
			want:          props("ClientIP", 10, "Cluster", ""),
			wantConflicts: map[model.ConflictReason][]string{model.ReasonSessionAffinityConflict: {"oldest export setting it (e2) wins with ClientIP", "ClientIP in e2; None in e1"}}},
		{name: "timeouts differ: the oldest ClientIP export's", a: props("ClientIP", 10, "Cluster", ""), b: props("ClientIP", 10800, "Cluster", ""),
			want:          props("ClientIP", 10, "Cluster", ""),
			wantConflicts: map[model.ConflictReason][]string{model.ReasonSessionAffinityConfigConflict: {"(e1) wins with 10s", "10800s in e2; 10s in e1"}}},
		{name: "internal traffic policy differs", a: props("None", 0, "Local", ""), b: props("None", 0, "Cluster", ""), ageA: 2, ageB: 1,
			want:          props("None", 0, "Cluster", ""),
			wantConflicts: map[model.ConflictReason][]string{model.ReasonInternalTrafficPolicyConflict: {"(e2) wins with Cluster", "Cluster in e2; Local in e1"}}},
		{name: "traffic distribution: the oldest setter, no conflict of its own", a: props("None", 0, "Cluster", ""), b: props("None", 0, "Cluster", "PreferSameZone"),
			want: props("None", 0, "Cluster", "PreferSameZone")},
		{name: "IP families: the oldest export's, no conflict", a: props("None", 0, "Cluster", "", "IPv6", "IPv4"), b: props("None", 0, "Cluster", "", "IPv4"), ageA: 1, ageB: 0,
			want: props("None", 0, "Cluster", "", "IPv4")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := export("e1", model.ScopeGlobal, tt.ageA), export("e2", model.ScopeGlobal, tt.ageB)
			a.Properties, b.Properties = tt.a, tt.b
			in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{a, b}}
			svc := onlyService(t, in).Global
			if !reflect.DeepEqual(svc.Properties, tt.want) {
				t.Errorf("properties %+v, want %+v", svc.Properties, tt.want)
			}
			if len(svc.Conflicts) != len(tt.wantConflicts) {
				t.Errorf("conflicts %v, want reasons %v", svc.Conflicts, tt.wantConflicts)
			}
			for reason, subs := range tt.wantConflicts {
				cs := conflictsOf(&svc, reason)
				if len(cs) != 1 || !slices.Equal(cs[0].Clusters, []string{"e1", "e2"}) {
					t.Fatalf("%s conflicts %v, want one naming e1 and e2", reason, cs)
				}
				for _, s := range subs {
					if !strings.Contains(cs[0].Message, s) {
						t.Errorf("%s message %q lacks %q", reason, cs[0].Message, s)
					}
				}
			}
		})
	}
}

// TestPropertiesShareNothing: the merged properties share no memory with the exports.
func TestPropertiesShareNothing(t *testing.T) {
	e := export("e1", model.ScopeGlobal, 0)
	e.Properties = props("ClientIP", 10, "Cluster", "", "IPv4")
	svc := onlyService(t, Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{e}}).Global
	*e.Properties.SessionAffinityTimeout = 99
	e.Properties.IPFamilies[0] = "IPv6"
	if *svc.Properties.SessionAffinityTimeout != 10 || svc.Properties.IPFamilies[0] != "IPv4" {
		t.Fatalf("merged properties %+v changed with the export", svc.Properties)
	}
}
