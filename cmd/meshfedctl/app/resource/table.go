package resource

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Write prints rows as columns separated by at least two spaces, each line prefixed with
// indent; cells must not contain tabs or newlines (see oneLine).
func Write(w io.Writer, indent string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, indent+strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// oneLine keeps a cell from breaking the table: whitespace runs (tabs, newlines) become one
// space, and an empty cell is "<none>".
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "<none>"
	}
	return s
}

// Age is how long ago t was, kubectl style ("5m", "3d"); "<unknown>" for a zero time.
func Age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// age is the AGE column every kind ends with.
var age = Column{Header: "AGE", Cell: func(obj client.Object, now time.Time) string {
	return Age(obj.GetCreationTimestamp(), now)
}}
