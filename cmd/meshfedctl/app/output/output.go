package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// Wide is the -o value that adds columns to a table.
const Wide = "wide"

// Flags are -o/--output with kubectl's template flags.
type Flags struct {
	print *genericclioptions.PrintFlags
}

// NewFlags returns -o defaulting to the command's table.
func NewFlags() *Flags {
	return &Flags{print: genericclioptions.NewPrintFlags("").WithDefaultOutput("")}
}

// AddFlags registers -o and the template flags on cmd.
func (f *Flags) AddFlags(cmd *cobra.Command) {
	f.print.AddFlags(cmd)
	cmd.Flag("output").Usage = "output format: " + strings.Join(f.Formats(), ", ") + " (default: a table)"
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return f.Formats(), cobra.ShellCompDirectiveNoFileComp
	})
}

// Formats lists the -o values.
func (f *Flags) Formats() []string {
	return append([]string{Wide}, f.print.AllowedFormats()...)
}

// Format is the -o value.
func (f *Flags) Format() string { return *f.print.OutputFormat }

// Table reports whether the output is the command's own table (or text), and wide whether
// -o wide asked for more columns.
func (f *Flags) Table() (table, wide bool) {
	switch f.Format() {
	case "":
		return true, false
	case Wide:
		return true, true
	default:
		return false, false
	}
}

// Validate refuses an unknown format, and a template that does not parse, before the command
// reads anything.
func (f *Flags) Validate() error {
	if table, _ := f.Table(); table {
		return nil
	}
	if _, err := f.print.ToPrinter(); err != nil {
		if genericclioptions.IsNoCompatiblePrinterError(err) {
			return cmdline.Usagef("invalid value %q for --output: want one of %s", f.Format(), strings.Join(f.Formats(), ", "))
		}
		return cmdline.Usagef("invalid --output %q: %w", f.Format(), err)
	}
	return nil
}

// Print writes objs in the chosen object format: one object alone when single, else a v1 List
// of them (kubectl's shape, so jq '.items[]' works), each with apiVersion and kind.
func (f *Flags) Print(w io.Writer, objs []client.Object, single bool) error {
	p, err := f.print.ToPrinter()
	if err != nil {
		return err
	}
	obj, err := toPrintable(objs, single)
	if err != nil {
		return err
	}
	if err := p.PrintObj(obj, w); err != nil {
		return fmt.Errorf("failed to print %s: %w", f.Format(), err)
	}
	return nil
}

// toPrintable converts typed objects to unstructured ones with apiVersion and kind set.
func toPrintable(objs []client.Object, single bool) (runtime.Object, error) {
	scheme, err := membership.Scheme()
	if err != nil {
		return nil, err
	}
	items := make([]unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		gvk, err := apiutil.GVKForObject(obj, scheme)
		if err != nil {
			return nil, fmt.Errorf("failed to find kind of %T: %w", obj, err)
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("failed to convert %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		u := unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvk)
		items = append(items, u)
	}
	if single && len(items) == 1 {
		return &items[0], nil
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}}}
	list.Items = items
	return list, nil
}
