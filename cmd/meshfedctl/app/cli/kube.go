package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
)

// ErrNoKubeconfig is returned when no kubeconfig is found. client-go's own message suggests
// an environment variable nothing reads any more.
var ErrNoKubeconfig = errors.New("no kubeconfig found: pass --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config")

// ClusterFlags are kubectl's flags for the one cluster a verb talks to.
type ClusterFlags struct {
	*genericclioptions.ConfigFlags
}

// NewClusterFlags returns kubectl's config flags without --cluster (in meshfed a cluster is
// a member cluster, never a kubeconfig entry) and without the discovery cache.
func NewClusterFlags() *ClusterFlags {
	f := genericclioptions.NewConfigFlags(false)
	f.ClusterName = nil
	f.CacheDir = nil
	return &ClusterFlags{ConfigFlags: f}
}

// AddFlags registers the flags on fs.
func (f *ClusterFlags) AddFlags(fs *pflag.FlagSet) { f.ConfigFlags.AddFlags(fs) }

// RESTConfig is the chosen cluster's client config.
func (f *ClusterFlags) RESTConfig() (*rest.Config, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, kubeconfigError(contextOf(f.ConfigFlags), err)
	}
	return cfg, nil
}

// Client returns a client of the chosen cluster knowing every type meshfedctl touches.
func (f *ClusterFlags) Client() (client.Client, *rest.Config, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return nil, nil, err
	}
	c, err := newClient(cfg)
	return c, cfg, err
}

// newClient is a client knowing every type meshfedctl touches.
var newClient = membership.NewClient

// Namespace is -n, else the context's namespace, else "default", as kubectl chooses it.
func (f *ClusterFlags) Namespace() (string, error) {
	ns, _, err := f.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", kubeconfigError(contextOf(f.ConfigFlags), err)
	}
	return ns, nil
}

// ContextName is --context, or the kubeconfig's current context.
func (f *ClusterFlags) ContextName() (string, error) {
	if name := contextOf(f.ConfigFlags); name != "" {
		return name, nil
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return "", kubeconfigError("", err)
	}
	return raw.CurrentContext, nil
}

// PairFlags choose the hub and a member for the verbs that talk to both: --kubeconfig,
// --hub-context and --member-context.
type PairFlags struct {
	kubeconfig string
	hubContext string
	member     string
	context    string
	// verb names the command in the message refusing --context.
	verb string
}

// NewPairFlags returns the flags of verb (e.g. "join").
func NewPairFlags(verb string) *PairFlags { return &PairFlags{verb: verb} }

// AddFlags registers --kubeconfig, --hub-context and --member-context, and a hidden
// --context that Validate refuses with a pointer to the two.
func (f *PairFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file holding both contexts (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&f.hubContext, "hub-context", "", "kubeconfig context of the hub cluster (required)")
	fs.StringVar(&f.member, "member-context", "", "kubeconfig context of the member cluster (required)")
	fs.StringVar(&f.context, "context", "", "refused: name the clusters with --hub-context and --member-context")
	_ = fs.MarkHidden("context")
}

// Validate wants both contexts named (needMember false: the member is not contacted), and no
// --context.
func (f *PairFlags) Validate(needMember bool) error {
	var errs []error
	if f.context != "" {
		errs = append(errs, fmt.Errorf("%s talks to two clusters: name them with --hub-context and --member-context, not --context", f.verb))
	}
	if f.hubContext == "" {
		errs = append(errs, fmt.Errorf("missing --hub-context: the kubeconfig context of the hub cluster (%s does not guess it)", f.verb))
	}
	if needMember && f.member == "" {
		errs = append(errs, fmt.Errorf("missing --member-context: the kubeconfig context of the member cluster (%s does not guess it)", f.verb))
	}
	return errors.Join(errs...)
}

// HubContext is --hub-context.
func (f *PairFlags) HubContext() string { return f.hubContext }

// MemberContext is --member-context.
func (f *PairFlags) MemberContext() string { return f.member }

// Hub returns the hub's client config.
func (f *PairFlags) Hub() (*rest.Config, error) { return f.config(f.hubContext) }

// Member returns the member's client config.
func (f *PairFlags) Member() (*rest.Config, error) { return f.config(f.member) }

// Contexts lists the contexts of the kubeconfig, for completion.
func (f *PairFlags) Contexts() ([]string, error) { return contexts(f.flags("")) }

func (f *PairFlags) config(context string) (*rest.Config, error) {
	cfg, err := f.flags(context).ToRESTConfig()
	if err != nil {
		return nil, kubeconfigError(context, err)
	}
	return cfg, nil
}

func (f *PairFlags) flags(context string) *genericclioptions.ConfigFlags {
	cf := genericclioptions.NewConfigFlags(false)
	cf.KubeConfig = &f.kubeconfig
	cf.Context = &context
	return cf
}

// contexts lists the context names of the kubeconfig cf loads.
func contexts(cf *genericclioptions.ConfigFlags) ([]string, error) {
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, kubeconfigError("", err)
	}
	names := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		names = append(names, name)
	}
	return names, nil
}

// Contexts lists the contexts of the kubeconfig, for completion.
func (f *ClusterFlags) Contexts() ([]string, error) { return contexts(f.ConfigFlags) }

func contextOf(cf *genericclioptions.ConfigFlags) string {
	if cf.Context == nil {
		return ""
	}
	return *cf.Context
}

// kubeconfigError replaces client-go's message for a missing kubeconfig and names the context
// of any other failure.
func kubeconfigError(context string, err error) error {
	switch {
	case clientcmd.IsEmptyConfig(err):
		return ErrNoKubeconfig
	case context != "":
		return fmt.Errorf("failed to load kubeconfig context %q: %w", context, err)
	default:
		return fmt.Errorf("failed to load kubeconfig: %w", err)
	}
}

// CompleteContexts completes a context flag from the kubeconfig list returns.
func CompleteContexts(list func() ([]string, error)) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		names, err := list()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// NamespaceFlag is -n as given, "" when not given.
func (f *ClusterFlags) NamespaceFlag() string {
	if f.ConfigFlags.Namespace == nil {
		return ""
	}
	return *f.ConfigFlags.Namespace
}
