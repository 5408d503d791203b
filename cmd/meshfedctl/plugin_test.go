package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/ctltest"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestKubectlPlugin builds meshfedctl, links it as kubectl-meshfed as make build does, and runs
// `kubectl meshfed status -o json` through the real kubectl against a real hub; then it runs
// the jq filter of the README's example on that output. kubectl and jq must be on the PATH:
// the test skips, saying so, where they are not.
func TestKubectlPlugin(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on the PATH: the plugin cannot be run through it here")
	}
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	ctltest.Members(t, hub)
	bin := t.TempDir()
	build := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(bin, "meshfedctl"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Symlink("meshfedctl", filepath.Join(bin, "kubectl-meshfed")); err != nil {
		t.Fatal(err)
	}
	run := func(name string, stdin []byte, args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), name, args...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+hub.KubeconfigFile(t))
		cmd.Stdin = bytes.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
		}
		return out
	}
	out := run(kubectl, nil, "meshfed", "status", "-o", "json")
	var list struct {
		Kind  string `json:"kind"`
		Items []json.RawMessage
	}
	if err := json.Unmarshal(out, &list); err != nil || list.Kind != "List" || len(list.Items) != 4 {
		t.Fatalf("kubectl meshfed status -o json: kind %q, %d items, %v\n%s", list.Kind, len(list.Items), err, out)
	}
	help := run(kubectl, nil, "meshfed", "--help")
	if !strings.Contains(string(help), "kubectl meshfed [command]") {
		t.Errorf("kubectl meshfed --help does not name the plugin as kubectl meshfed:\n%s", help)
	}

	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not on the PATH: the README's filter is not run here")
	}
	filter := readmeFilter(t)
	got := strings.Fields(string(run(jq, out, "-r", filter)))
	if strings.Join(got, ",") != "south-1,west-1" {
		t.Errorf("the README's jq filter %s printed %q, want the clusters that are not ready: south-1, west-1", filter, got)
	}
}

// readmeFilter is the jq program of the README's `kubectl meshfed status -o json | jq -r '…'`.
func readmeFilter(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`kubectl meshfed status -o json \| jq -r '([^']+)'`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no `kubectl meshfed status -o json | jq -r '…'` example")
	}
	return string(m[1])
}
