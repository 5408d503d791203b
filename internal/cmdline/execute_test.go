package cmdline_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/internal/cmdline"
	"github.com/meshfed/meshfed/internal/golden"
)

// newProgram is a small command tree shaped like meshfed's binaries: a runnable root with
// flags, a group command with subcommands, and a leaf taking one argument.
func newProgram(ran *[]string) *cobra.Command {
	root := &cobra.Command{
		Use: "prog",
		RunE: func(*cobra.Command, []string) error {
			*ran = append(*ran, "prog")
			return nil
		},
	}
	logs := cmdline.NewLogFlags(slog.LevelInfo)
	logs.AddFlags(root.PersistentFlags())
	root.Flags().String("kubeconfig", "", "kubeconfig")
	root.Flags().StringP("namespace", "n", "", "namespace")
	group := &cobra.Command{Use: "waypoint", Short: "group"}
	group.AddCommand(&cobra.Command{
		Use: "apply", Short: "apply",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("failed to apply the waypoint: the hub is away")
		},
	})
	group.AddCommand(&cobra.Command{
		Use: "delete NAME", Short: "delete", Args: cmdline.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { *ran = append(*ran, "delete "+args[0]); return nil },
	})
	root.AddCommand(group)
	cmdline.Prepare(root)
	return root
}

// TestCommandLineErrors: every mistake a user can make on a command line gets a message that
// names it, a suggestion where one is close, and exit code 2; a failing command exits 1.
func TestCommandLineErrors(t *testing.T) {
	lines := [][]string{
		{"--kubconfig", "x"},
		{"--kubconfig=x"},
		{"--log-level=verbose"},
		{"--log-level", "WARN", "--log-format", "yaml"},
		{"-A"},
		{"-An", "x"},
		{"version2"},
		{"extra", "args"},
		{"waypoint", "aply", "-n", "shop"},
		{"waypoint", "apply", "--namespace"},
		{"waypoint", "delete"},
		{"waypoint", "delete", "a", "b"},
		{"waypoint", "apply"},
		{"version", "-o", "yaml"},
	}
	var out strings.Builder
	for _, args := range lines {
		var ran []string
		var stdout, stderr bytes.Buffer
		root := newProgram(&ran)
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		err := cmdline.Execute(t.Context(), root, args)
		code := cmdline.Exit(&stderr, err)
		fmt.Fprintf(&out, "$ prog %s\nexit %d\n%s%s\n", strings.Join(args, " "), code, stdout.String(), stderr.String())
		if len(ran) > 0 {
			t.Errorf("prog %s ran %v despite the error", strings.Join(args, " "), ran)
		}
		if code == cmdline.ExitOK {
			t.Errorf("prog %s exited 0", strings.Join(args, " "))
		}
	}
	golden.Check(t, "errors", out.String())
}

// TestCommandLineOK: good lines run the command, --version and version print one line.
func TestCommandLineOK(t *testing.T) {
	tests := []struct {
		args []string
		ran  string
		out  string
	}{
		{[]string{"--log-level", "debug", "--log-format", "json"}, "prog", ""},
		{[]string{"waypoint", "delete", "web"}, "delete web", ""},
		{[]string{"--version"}, "", "prog dev (commit "},
		{[]string{"version"}, "", "prog dev (commit "},
		{[]string{"version", "-o", "json"}, "", `"goVersion": "go`},
		{[]string{"waypoint"}, "", "Available Commands:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var ran []string
			var stdout bytes.Buffer
			root := newProgram(&ran)
			root.SetOut(&stdout)
			if err := cmdline.Execute(t.Context(), root, tt.args); err != nil {
				t.Fatal(err)
			}
			if strings.Join(ran, ",") != tt.ran || !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("ran %v, printed %q; want %q and %q", ran, stdout.String(), tt.ran, tt.out)
			}
		})
	}
}

func TestLogFlags(t *testing.T) {
	tests := []struct {
		args  []string
		level slog.Level
		json  bool
	}{
		{nil, slog.LevelInfo, false},
		{[]string{"--log-level", "debug"}, slog.LevelDebug, false},
		{[]string{"--log-level=Warn", "--log-format=JSON"}, slog.LevelWarn, true},
		{[]string{"--log-level", "error", "--log-format", "text"}, slog.LevelError, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := cmdline.NewLogFlags(slog.LevelInfo)
			c := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
			f.AddFlags(c.Flags())
			cmdline.Prepare(c)
			if err := cmdline.Execute(t.Context(), c, tt.args); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			log := f.Logger(&buf)
			log.Log(t.Context(), tt.level-1, "below")
			log.Log(t.Context(), tt.level, "at", "k", "v")
			got := buf.String()
			if strings.Contains(got, "below") || !strings.Contains(got, "at") {
				t.Errorf("level %v: logged %q", tt.level, got)
			}
			if isJSON := strings.HasPrefix(got, "{"); isJSON != tt.json {
				t.Errorf("json = %v, want %v: %q", isJSON, tt.json, got)
			}
		})
	}
}
