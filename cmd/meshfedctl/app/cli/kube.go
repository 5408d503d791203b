package cli

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeFlags are the kubectl-style flags that choose a kubeconfig file.
type KubeFlags struct {
	Kubeconfig string
}

// AddFlags registers --kubeconfig.
func (f *KubeFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
}

// RESTConfig returns the client config of a context of the chosen kubeconfig; an empty context
// means the current one.
func (f *KubeFlags) RESTConfig(context string) (*rest.Config, error) {
	cfg, err := f.loader(context).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to load kubeconfig context %q: %w", context, err)
	}
	return cfg, nil
}

// Namespace is the namespace a context names ("default" when it names none), as kubectl uses.
func (f *KubeFlags) Namespace(context string) (string, error) {
	ns, _, err := f.loader(context).Namespace()
	if err != nil {
		return "", fmt.Errorf("failed to read namespace of kubeconfig context %q: %w", context, err)
	}
	return ns, nil
}

// ContextName is the name of a context of the chosen kubeconfig: context itself, or the current
// context's name when context is empty.
func (f *KubeFlags) ContextName(context string) (string, error) {
	if context != "" {
		return context, nil
	}
	raw, err := f.loader("").RawConfig()
	if err != nil {
		return "", fmt.Errorf("failed to load kubeconfig: %w", err)
	}
	return raw.CurrentContext, nil
}

func (f *KubeFlags) loader(context string) clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.Kubeconfig != "" {
		rules.ExplicitPath = f.Kubeconfig
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
}

// HubFlags choose the hub cluster: --kubeconfig and --context.
type HubFlags struct {
	KubeFlags
	Context string
}

// AddFlags registers --kubeconfig and --context.
func (f *HubFlags) AddFlags(fs *pflag.FlagSet) {
	f.KubeFlags.AddFlags(fs)
	fs.StringVar(&f.Context, "context", "", "kubeconfig context of the hub cluster (default: the current context)")
}

// RESTConfig returns the hub's client config.
func (f *HubFlags) RESTConfig() (*rest.Config, error) { return f.KubeFlags.RESTConfig(f.Context) }
