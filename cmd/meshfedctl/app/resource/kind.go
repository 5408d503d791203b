package resource

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// Kind is one resource kind of the hub as the CLI names, lists and prints it.
type Kind struct {
	// Plural is the canonical name (what kubectl api-resources calls it).
	Plural string
	// Singular and ShortNames are accepted as well.
	Singular   string
	ShortNames []string
	// Namespaced kinds are listed per namespace (-n, -A).
	Namespaced bool
	// Noun names one object in messages ("global service").
	Noun string

	newObject func() client.Object
	newList   func() client.ObjectList
	columns   []Column
}

// Column is one table column: its header, whether only -o wide shows it, and its cell.
type Column struct {
	Header string
	Wide   bool
	Cell   func(obj client.Object, now time.Time) string
}

// Kinds are every kind meshfedctl knows, in the order help lists them.
var Kinds = []*Kind{GlobalServices, MemberClusters, Segments}

// Names are every name of k: plural, singular and short names.
func (k *Kind) Names() []string {
	return append([]string{k.Plural, k.Singular}, k.ShortNames...)
}

// Lookup finds a kind by any of its names (case ignored); an unknown name is a usage error
// suggesting the closest kind.
func Lookup(name string) (*Kind, error) {
	lower := strings.ToLower(name)
	var all []string
	for _, k := range Kinds {
		if slices.Contains(k.Names(), lower) {
			return k, nil
		}
		all = append(all, k.Names()...)
	}
	hint := ""
	if s := cmdline.Suggest(name, all); len(s) > 0 {
		hint = fmt.Sprintf("; did you mean %q?", s[0])
	}
	return nil, cmdline.Usagef("unknown resource type %q%s (known: %s)", name, hint, Help())
}

// Help lists the kinds with their short names: "globalservices (gs, gsvc), …".
func Help() string {
	parts := make([]string, 0, len(Kinds))
	for _, k := range Kinds {
		parts = append(parts, fmt.Sprintf("%s (%s)", k.Plural, strings.Join(k.ShortNames, ", ")))
	}
	return strings.Join(parts, ", ")
}

// NewObject returns an empty object of the kind.
func (k *Kind) NewObject() client.Object { return k.newObject() }

// List reads the objects of the kind, sorted by namespace and name.
func (k *Kind) List(ctx context.Context, c client.Client, opts ...client.ListOption) ([]client.Object, error) {
	list := k.newList()
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("failed to list %s: %w", k.Plural, err)
	}
	objs := items(list)
	slices.SortFunc(objs, func(a, b client.Object) int {
		if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
	return objs, nil
}

// TableOptions choose the columns of a table.
type TableOptions struct {
	// Wide adds the columns -o wide shows.
	Wide bool
	// WithNamespace adds a NAMESPACE column first (-A).
	WithNamespace bool
	// Now is the time ages are counted to.
	Now time.Time
}

// WriteTable prints objs as a table, one row per object in the given order.
func (k *Kind) WriteTable(w io.Writer, objs []client.Object, o TableOptions) error {
	var header []string
	var cols []Column
	if o.WithNamespace && k.Namespaced {
		header = append(header, "NAMESPACE")
	}
	for _, c := range k.columns {
		if !c.Wide || o.Wide {
			cols = append(cols, c)
			header = append(header, c.Header)
		}
	}
	rows := [][]string{header}
	for _, obj := range objs {
		var row []string
		if o.WithNamespace && k.Namespaced {
			row = append(row, obj.GetNamespace())
		}
		for _, c := range cols {
			row = append(row, oneLine(c.Cell(obj, o.Now)))
		}
		rows = append(rows, row)
	}
	if err := Write(w, "", rows); err != nil {
		return fmt.Errorf("failed to write %s table: %w", k.Plural, err)
	}
	return nil
}

// items returns the items of one of meshfed's lists as objects.
func items(list client.ObjectList) []client.Object {
	var out []client.Object
	switch l := list.(type) {
	case *meshfedv1.GlobalServiceList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *meshfedv1.MemberClusterList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *meshfedv1.SegmentList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out
}
