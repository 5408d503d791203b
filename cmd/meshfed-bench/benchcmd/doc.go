// Package benchcmd builds the subcommands of meshfed-bench the same way: the benchmark's flags,
// their validation as a usage error before anything starts, the run, and its table printed to
// the command's output.
package benchcmd
