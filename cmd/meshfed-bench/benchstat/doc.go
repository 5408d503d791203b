// Package benchstat holds the statistics every meshfed-bench subcommand reports the same way.
package benchstat
