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
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.Kubeconfig != "" {
		rules.ExplicitPath = f.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to load kubeconfig context %q: %w", context, err)
	}
	return cfg, nil
}
