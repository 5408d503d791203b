package clusters

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// TestEchoDeploymentOn checks that the bound variant is the same Deployment with its pod bound
// to the node and tolerating every taint, and that the plain one has neither.
func TestEchoDeploymentOn(t *testing.T) {
	topo, err := NewTopology("mf", 3, 30, DefaultWorkers)
	if err != nil {
		t.Fatal(err)
	}
	s := &Set{Topology: topo, Artifacts: &Artifacts{EchoImage: "meshfed-echo:x"}}
	c := &s.Clusters[0]
	parse := func(text string) appsv1.Deployment {
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict([]byte(text), &d); err != nil {
			t.Fatalf("%v:\n%s", err, text)
		}
		return d
	}
	plain := parse(s.EchoDeployment(c, "ns", "echo", 2))
	bound := parse(s.EchoDeploymentOn(c, "ns", "echo-gw", c.Nodes[2].Name))
	if spec := plain.Spec.Template.Spec; spec.NodeName != "" || len(spec.Tolerations) != 0 || *plain.Spec.Replicas != 2 {
		t.Errorf("plain Deployment: node %q tolerations %v replicas %d", spec.NodeName, spec.Tolerations, *plain.Spec.Replicas)
	}
	spec := bound.Spec.Template.Spec
	if spec.NodeName != "cluster-1-gateway-1" || len(spec.Tolerations) != 1 || spec.Tolerations[0].Operator != "Exists" ||
		spec.Tolerations[0].Key != "" || *bound.Spec.Replicas != 1 {
		t.Errorf("bound Deployment: node %q tolerations %v replicas %d", spec.NodeName, spec.Tolerations, *bound.Spec.Replicas)
	}
	if spec.Containers[0].Image != "meshfed-echo:x" || bound.Spec.Template.Labels["app"] != "echo-gw" {
		t.Errorf("bound Deployment: image %s labels %v", spec.Containers[0].Image, bound.Spec.Template.Labels)
	}
}
