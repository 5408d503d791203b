package cmdline

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/internal/version"
)

// addVersion gives root a --version flag (no shorthand: -v means verbosity to kubectl users)
// and a version subcommand; both print version.Get() on one line, the subcommand also as JSON
// with -o json.
func addVersion(root *cobra.Command) {
	info := version.Get()
	root.Version = info.String(root.Name())
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().Bool("version", false, "print the version, commit and Go version, and exit")
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch output {
			case "":
				_, err := fmt.Fprintln(c.OutOrStdout(), info.String(root.Name()))
				return err
			case "json":
				b, err := json.MarshalIndent(info, "", "  ")
				if err != nil {
					return fmt.Errorf("failed to encode version: %w", err)
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "%s\n", b)
				return err
			default:
				return Usagef("invalid value %q for --output: want json, or no -o for one line", output)
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json (default: one line)")
	root.AddCommand(cmd)
}
