package cmdline

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Prepare wires root's command tree for Execute, once every subcommand is added: root gets
// --version and a version subcommand; errors are not printed by cobra (Exit prints them once);
// flag errors name the flag and suggest the closest one; a runnable command that declares no
// argument rule takes no arguments; a command that only groups subcommands refuses an unknown
// one with a suggestion (cobra would print help and exit 0).
func Prepare(root *cobra.Command) {
	addVersion(root)
	root.InitDefaultCompletionCmd() // now rather than at Execute, so that it is wired too
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetFlagErrorFunc(flagError)
	walk(root, func(c *cobra.Command) {
		switch {
		case c.Runnable():
			if c.Args == nil {
				c.Args = NoArgs
			}
			if c.RunE != nil {
				c.RunE = markRun(c.RunE)
			}
		case c.HasSubCommands():
			c.Args = cobra.ArbitraryArgs
			c.FParseErrWhitelist.UnknownFlags = true
			c.RunE = requireSubcommand
		}
	})
}

// Execute runs root (prepared with Prepare) with args. Its error is a *UsageError when the
// command line was wrong, else what the command returned.
func Execute(ctx context.Context, root *cobra.Command, args []string) error {
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	path := root.CommandPath()
	if cmd != nil {
		path = cmd.CommandPath()
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		if ue.Command == "" {
			ue.Command = path
		}
		return err
	}
	var re *runError
	if errors.As(err, &re) {
		return re.err
	}
	return &UsageError{Command: path, Err: err}
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

func markRun(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		err := run(c, args)
		var ue *UsageError
		if err == nil || errors.As(err, &ue) {
			return err
		}
		return &runError{err}
	}
}

// NoArgs refuses any argument, suggesting a subcommand when one is close.
func NoArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.HasAvailableSubCommands() {
		return Usagef("unknown command %q for %q%s", args[0], c.CommandPath(), didYouMean(Suggest(args[0], commandNames(c)), ""))
	}
	return Usagef("unexpected argument %q: %s takes no arguments", args[0], c.CommandPath())
}

// ExactArgs wants exactly n arguments, naming them by the command's Use line.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		if len(args) > n {
			return Usagef("unexpected argument %q: want %q", args[n], c.UseLine())
		}
		return Usagef("missing argument: want %q", c.UseLine())
	}
}

// requireSubcommand runs a command that only groups subcommands: help without arguments, a
// usage error with a suggestion for an unknown one.
func requireSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	return Usagef("unknown command %q for %q%s", args[0], c.CommandPath(), didYouMean(Suggest(args[0], commandNames(c)), ""))
}

// commandNames are the names and aliases of c's visible subcommands.
func commandNames(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
			names = append(names, sub.Aliases...)
		}
	}
	return names
}

// flagError turns pflag's parse errors into usage errors that name the flag, suggest the
// closest flag of the command, and say what a value should look like.
func flagError(c *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		invalid  *pflag.InvalidValueError
	)
	switch {
	case errors.As(err, &notExist) && notExist.GetSpecifiedShortnames() != "":
		short, group := notExist.GetSpecifiedName()[:1], notExist.GetSpecifiedShortnames()
		in := ""
		if group != short {
			in = " (in -" + group + ")"
		}
		return &UsageError{Command: c.CommandPath(), Err: fmt.Errorf("unknown flag -%s%s for %q", short, in, c.CommandPath())}
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		return &UsageError{Command: c.CommandPath(), Err: fmt.Errorf("unknown flag --%s for %q%s",
			name, c.CommandPath(), didYouMean(Suggest(name, flagNames(c)), "--"))}
	case errors.As(err, &invalid):
		return &UsageError{Command: c.CommandPath(), Err: fmt.Errorf("invalid value %q for --%s: %w",
			invalid.GetValue(), invalid.GetFlag().Name, wantOfType(invalid.GetFlag().Value.Type(), invalid.Unwrap()))}
	default:
		return &UsageError{Command: c.CommandPath(), Err: err}
	}
}

// wantOfType says what a value of a flag of pflag type typ looks like, in place of the parser's
// own error (strconv's and time's name functions, not the flag); other types keep cause.
func wantOfType(typ string, cause error) error {
	switch typ {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return errors.New("want a whole number")
	case "float32", "float64":
		return errors.New("want a number")
	case "duration":
		return errors.New("want a duration such as 500ms, 30s, 5m or 1h30m")
	case "bool":
		return errors.New("want true or false")
	default:
		return cause
	}
}

// flagNames are the names of c's visible flags, its own and those it inherits.
func flagNames(c *cobra.Command) []string {
	var names []string
	add := func(f *pflag.Flag) {
		if !f.Hidden && !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	c.LocalFlags().VisitAll(add)
	c.InheritedFlags().VisitAll(add)
	return names
}
