package benchcmd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchcmd"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// TestNew: flags reach Run, a flag Validate refuses is a usage error before anything runs, a
// failed run prints no table, and a good one prints Run's result.
func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		runErr   error
		wantOut  string
		wantCode int
	}{
		{name: "prints the table", args: []string{"--n", "3"}, wantOut: "n=3\n"},
		{name: "invalid flag", args: []string{"--n", "0"}, wantCode: 2},
		{name: "argument", args: []string{"extra"}, wantCode: 2},
		{name: "run fails", args: []string{"--n", "3"}, runErr: errors.New("failed to start the backend"), wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ran := 1, false
			var out bytes.Buffer
			cmd := benchcmd.New(&out, benchcmd.Spec[int]{
				Use:      "bench",
				AddFlags: func(fs *pflag.FlagSet) { fs.IntVar(&n, "n", n, "count") },
				Validate: func() error {
					if n < 1 {
						return errors.New("--n must be positive")
					}
					return nil
				},
				Run: func(context.Context) (int, error) {
					ran = true
					return n, tt.runErr
				},
				Print: func(w io.Writer, r int) { fmt.Fprintf(w, "n=%d\n", r) },
			})
			cmdline.Prepare(cmd)
			err := cmdline.Execute(context.Background(), cmd, tt.args)
			if code := cmdline.ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit code %d (%v), want %d", code, err, tt.wantCode)
			}
			if ran != (tt.wantCode != 2) {
				t.Errorf("ran = %v with exit code %d", ran, tt.wantCode)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}
