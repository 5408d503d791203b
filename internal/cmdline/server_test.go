package cmdline_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// TestServerCommand: a long-running program's command validates its flags before running
// (a bad value is a usage error, exit code 2, and Run never starts), passes the parsed options
// and a logger to Run, reports Run's failure (exit code 1), and counts a Run ended by its
// context as a clean stop.
func TestServerCommand(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		args     []string
		runErr   error
		wantRun  bool
		wantCode int
	}{
		{name: "runs", ctx: context.Background(), args: []string{"--port", "80"}, wantRun: true},
		{name: "invalid option", ctx: context.Background(), args: []string{"--port", "0"}, wantCode: 2},
		{name: "unknown flag", ctx: context.Background(), args: []string{"--prot", "80"}, wantCode: 2},
		{name: "run fails", ctx: context.Background(), args: []string{"--port", "80"}, runErr: errors.New("failed to listen"), wantRun: true, wantCode: 1},
		{name: "stopped while starting", ctx: canceled, args: []string{"--port", "80"}, runErr: context.Canceled, wantRun: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := 1
			var ran bool
			cmd := cmdline.NewServerCommand(cmdline.Server{
				Use: "server",
				AddFlags: func(fs *pflag.FlagSet) {
					fs.IntVar(&port, "port", port, "port")
				},
				Validate: func() error {
					if port <= 0 {
						return errors.New("--port must be positive")
					}
					return nil
				},
				Run: func(_ context.Context, log *slog.Logger) error {
					ran = true
					if log == nil {
						t.Error("Run got no logger")
					}
					if port != 80 {
						t.Errorf("Run saw --port %d, want 80", port)
					}
					return tt.runErr
				},
			})
			err := cmdline.Execute(tt.ctx, cmd, tt.args)
			if ran != tt.wantRun {
				t.Errorf("ran = %v, want %v", ran, tt.wantRun)
			}
			if code := cmdline.ExitCode(err); code != tt.wantCode {
				t.Errorf("exit code %d (%v), want %d", code, err, tt.wantCode)
			}
		})
	}
}
