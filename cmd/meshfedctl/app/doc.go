// Package app builds the meshfedctl command tree. Each subcommand lives in its own package
// with a flags struct and a runE; this package only assembles them.
package app
