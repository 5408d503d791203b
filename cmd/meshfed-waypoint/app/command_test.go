package app

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/internal/cmdline"
	"github.com/meshfed/meshfed/internal/golden"
)

// TestCommandLine: the waypoint's command line mistakes each print one message naming the
// flag, with exit code 2; --version and version print the build. Before, each mistake exited 2
// printing nothing, and extra arguments were ignored.
func TestCommandLine(t *testing.T) {
	env := map[string]string{"POD_NAMESPACE": "shop"}
	lines := [][]string{
		{"--version"},
		{"version"},
		{"--netwrk", "net-a"},
		{"--log-level", "trace"},
		{"--log-format=xml"},
		{"--retries", "many"},
		{"serve"},
		{"--cluster", "east-1"},
		{"--cluster", "east-1", "--network", "net-a", "--etcd-endpoints", "http://127.0.0.1:2379", "--hbone-transport", "h4", "--cert-file", "tls.crt"},
		{"--cluster", "east-1", "--network", "net-a", "--etcd-endpoints", "http://127.0.0.1:2379", "--gateway-namespaces", "shop,Bank,shop"},
	}
	var out strings.Builder
	for _, args := range lines {
		var stdout, stderr bytes.Buffer
		cmd := NewCommand(func(k string) string { return env[k] })
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		code := cmdline.Exit(&stderr, cmdline.Execute(t.Context(), cmd, args))
		fmt.Fprintf(&out, "$ meshfed-waypoint %s\nexit %d\n%s%s\n", strings.Join(args, " "), code, stdout.String(), stderr.String())
		if code == cmdline.ExitOK && args[0] != "version" && args[0] != "--version" {
			t.Errorf("meshfed-waypoint %s exited 0", strings.Join(args, " "))
		}
	}
	got := strings.NewReplacer(runtime.Version(), "GOVERSION", runtime.GOOS+"/"+runtime.GOARCH, "OS/ARCH").Replace(out.String())
	golden.Check(t, "command_line", got)
}
