package describe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// field writes one "Label:<tab>value" line.
func field(w io.Writer, label, value string) {
	fmt.Fprintf(w, "%s:\t%s\n", label, orNone(value))
}

// table writes a title line, then rows aligned as columns, each indented by indent.
func table(w io.Writer, title, indent string, rows [][]string) error {
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, indent+strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// list joins values with ", ", or says none.
func list(values []string) string {
	if len(values) == 0 {
		return none
	}
	return strings.Join(values, ", ")
}

// orNone replaces an empty value.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// orDash replaces an empty table cell, keeping columns narrow.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a message from breaking a table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
