package main

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/internal/cmdline"
	"github.com/meshfed/meshfed/internal/golden"
)

// TestCommandLine: meshfed-bench's mistakes each print one message with a suggestion and exit
// 2; --version prints the build.
func TestCommandLine(t *testing.T) {
	lines := [][]string{
		{"--version"},
		{"waypiont"},
		{"hbone", "--duraton", "1s"},
		{"hbone", "--parallel", "many"},
		{"waypoint", "--rate", "0"},
		{"peers", "--workers", "1,1"},
		{"hbone", "extra"},
		{"--log-format", "xml", "hbone"},
	}
	var out strings.Builder
	for _, args := range lines {
		var stdout, stderr bytes.Buffer
		cmd := newCommand()
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		code := cmdline.Exit(&stderr, cmdline.Execute(t.Context(), cmd, args))
		fmt.Fprintf(&out, "$ meshfed-bench %s\nexit %d\n%s%s\n", strings.Join(args, " "), code, stdout.String(), stderr.String())
		if code == cmdline.ExitOK && args[0] != "--version" {
			t.Errorf("meshfed-bench %s exited 0", strings.Join(args, " "))
		}
	}
	got := strings.NewReplacer(runtime.Version(), "GOVERSION", runtime.GOOS+"/"+runtime.GOARCH, "OS/ARCH").Replace(out.String())
	golden.Check(t, "command_line", got)
}
