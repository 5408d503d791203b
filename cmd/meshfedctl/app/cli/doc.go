// Package cli holds what every meshfedctl subcommand shares: the IO streams a command writes
// to, so that commands are testable with buffers.
package cli
