package cmdline

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes of every meshfed binary.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailure: the command line was fine and the command failed.
	ExitFailure = 1
	// ExitUsage: the command line was wrong (unknown flag, command or argument, bad value).
	ExitUsage = 2
)

// UsageError is a mistake in the command line. Execute returns one for every error cobra or
// pflag raises before a command runs; a command returns one (Usagef) for a mistake only it can
// see, such as an unknown resource type.
type UsageError struct {
	// Command is the path of the command whose line was wrong ("meshfedctl get"); its --help
	// is the place to look.
	Command string
	Err     error
}

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message; Execute fills in the command.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// runError marks an error a command's RunE returned: the line was fine, the command failed.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// ExitCode is the exit code for err: 0 for nil, 2 for a UsageError, 1 otherwise.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// Exit prints err to w, with where to find the usage for a UsageError, and returns the exit
// code main should exit with.
func Exit(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(w, "Error:", err)
	var ue *UsageError
	if errors.As(err, &ue) && ue.Command != "" {
		fmt.Fprintf(w, "See '%s --help' for usage.\n", ue.Command)
	}
	return ExitCode(err)
}

// Usage marks err, a mistake in the command line that only the command can see (flags that do
// not hold together), as a UsageError; nil stays nil.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}
