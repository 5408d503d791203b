package app

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/internal/cmdline"
	"github.com/meshfed/meshfed/internal/golden"
	"github.com/meshfed/meshfed/internal/syncbuf"
)

// TestCommandLine: the hub's command line mistakes and start-up failures each print one
// message saying what to do, with exit code 2 for the line and 1 for the failure; --version
// and version print the build. Before, each mistake exited 2 printing nothing.
func TestCommandLine(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	lines := [][]string{
		{"--version"},
		{"version"},
		{"--kubconfig", "hub.kubeconfig"},
		{"--log-level=verbose"},
		{"--log-format", "logfmt"},
		{"--stale-grace", "soon"},
		{"version", "extra"},
		{"run"},
		{"--waypoint-ports", "30000-20000", "--leader-elect-retry-period", "0s"},
		{"--data-dir", t.TempDir(), "--log-level", "error"},
	}
	var out strings.Builder
	for _, args := range lines {
		var stdout, stderr bytes.Buffer
		cmd := NewCommand()
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		code := cmdline.Exit(&stderr, cmdline.Execute(t.Context(), cmd, args))
		fmt.Fprintf(&out, "$ meshfed-hub %s\nexit %d\n%s%s\n", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	got := strings.NewReplacer(runtime.Version(), "GOVERSION", runtime.GOOS+"/"+runtime.GOARCH, "OS/ARCH", lines[len(lines)-1][1], "DATADIR").Replace(out.String())
	golden.Check(t, "command_line", got)
	if strings.Contains(got, "KUBERNETES_MASTER") {
		t.Error("a start-up error points at KUBERNETES_MASTER")
	}
}

// TestAwaitNamespace: a hub whose namespace does not exist says so once, as a warning with
// what to do, logs no error while it waits, and starts once the namespace appears. Before, it
// logged an ERROR every few seconds with no hint.
func TestAwaitNamespace(t *testing.T) {
	hub := framework.Start(t, 1, framework.WithNames("hub"))[0]
	old := namespacePoll
	namespacePoll = 200 * time.Millisecond
	t.Cleanup(func() { namespacePoll = old })
	var logs syncbuf.Buffer
	cmd := NewCommand()
	cmd.SetErr(&logs)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- cmdline.Execute(ctx, cmd, []string{"--kubeconfig", hub.KubeconfigFile(t), "--namespace", "hub-system",
			"--data-dir", t.TempDir(), "--embedded-etcd-client-url", "https://" + freeAddr(t),
			"--embedded-etcd-peer-url", "http://" + freeAddr(t), "--metrics-bind-address", "0", "--health-probe-bind-address", "0"})
	}()
	// The hub may take a while to get to its first poll on a loaded machine: wait for the
	// warning, then let ten more polls pass to see it is not repeated.
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(logs.String(), "level=WARN"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning while the namespace is missing:\n%s", logs.String())
		}
	}
	time.Sleep(2 * time.Second) // ten polls
	waiting := logs.String()
	if n := strings.Count(waiting, "level=WARN"); n != 1 || !strings.Contains(waiting, "kubectl create namespace hub-system") {
		t.Errorf("want one warning saying how to create the namespace, got:\n%s", waiting)
	}
	if strings.Contains(waiting, "level=ERROR") {
		t.Errorf("errors logged while waiting for the namespace:\n%s", waiting)
	}
	if err := hub.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hub-system"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "hub starting") {
		if time.Now().After(deadline) {
			t.Fatalf("the hub did not start once its namespace existed:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("hub: %v", err)
	}
}
