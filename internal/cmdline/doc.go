// Package cmdline is what every meshfed binary's command line does the same way: --version and a
// version subcommand, --log-level and --log-format, and errors a user can act on. A mistake in
// the command line (an unknown flag, command or argument, a value that does not parse) names
// what was wrong, suggests the closest valid name, and exits with code 2; a failure of the
// command itself exits with code 1.
//
// Commands are cobra commands; Prepare wires a command tree, Execute runs it, and Exit turns
// the result into the message and exit code main should use. Main does all of it for a main
// function, under a context that SIGINT and SIGTERM cancel. NewServerCommand builds the command
// of a long-running program (the hub, a waypoint, meshfed-dns) from its flags, validation and
// run function.
package cmdline
