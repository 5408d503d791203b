package status_test

import (
	"encoding/json"
	"strings"
	"testing"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/ctltest"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/internal/golden"
)

// TestStatus runs meshfedctl status against a real hub API server whose MemberClusters carry
// the status the hub would write, in every output format, and compares with
// testdata/status.golden.
func TestStatus(t *testing.T) {
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	kubeconfig := hub.KubeconfigFile(t)
	var out strings.Builder
	run := func(args ...string) ctltest.Result {
		r := ctltest.Run(t, app.Program, append(append([]string{}, args...), "--kubeconfig", kubeconfig)...)
		out.WriteString(r.Transcript(args...))
		return r
	}
	run("status", "--context", "hub")
	ctltest.Members(t, hub)
	for _, o := range []string{"", "wide", "yaml", "name", "jsonpath={.items[*].metadata.name}"} {
		args := []string{"status", "--context", "hub"}
		if o != "" {
			args = append(args, "-o", o)
		}
		run(args...)
	}
	run("status", "-A")
	run("status", "--contxt", "hub")
	run("status", "--context", "nowhere")
	golden.Check(t, "status", out.String())

	checkJSON(t, ctltest.Run(t, app.Plugin, "status", "-o", "json", "--kubeconfig", kubeconfig))
}

// checkJSON checks what the README's `kubectl meshfed status -o json | jq` example reads: a
// List whose items are MemberClusters with metadata.name, spec.network, spec.segment and
// status.conditions (type, status, reason), lastSyncTime, exportedServices, importedServices.
func checkJSON(t *testing.T, r ctltest.Result) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("status -o json: %v", r.Err)
	}
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Items      []struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Network string `json:"network"`
				Segment string `json:"segment"`
			} `json:"spec"`
			Status struct {
				Conditions []struct {
					Type, Status, Reason string
				} `json:"conditions"`
				LastSyncTime     *string `json:"lastSyncTime"`
				ExportedServices int     `json:"exportedServices"`
				ImportedServices int     `json:"importedServices"`
			} `json:"status"`
		} `json:"items"`
	}
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("status -o json is not JSON: %v\n%s", err, r.Stdout)
	}
	if doc.APIVersion != "v1" || doc.Kind != "List" || len(doc.Items) != 4 {
		t.Fatalf("status -o json: apiVersion %q kind %q, %d items; want a v1 List of 4", doc.APIVersion, doc.Kind, len(doc.Items))
	}
	var notReady []string
	for _, it := range doc.Items {
		if it.APIVersion != "meshfed.io/v1alpha1" || it.Kind != "MemberCluster" || it.Metadata.Name == "" || it.Spec.Network == "" {
			t.Errorf("item %+v lacks apiVersion, kind, metadata.name or spec.network", it)
		}
		ready := false
		for _, c := range it.Status.Conditions {
			ready = ready || (c.Type == "Ready" && c.Status == "True")
		}
		if !ready {
			notReady = append(notReady, it.Metadata.Name)
		}
		if it.Metadata.Name == "east-1" && (it.Status.LastSyncTime == nil || it.Status.ExportedServices != 4 || it.Status.ImportedServices != 2 || it.Spec.Segment != "default") {
			t.Errorf("east-1: %+v", it)
		}
	}
	// What the README's jq filter selects.
	if strings.Join(notReady, ",") != "south-1,west-1" {
		t.Errorf("clusters not ready = %v, want south-1 and west-1", notReady)
	}
}
