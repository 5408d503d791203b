package get

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
)

// contextNamespace is the namespace of a kubeconfig context ("default" when it names none),
// loaded with the same rules as cli.KubeFlags.
func contextNamespace(kubeconfig, context string) (string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).Namespace()
	if err != nil {
		return "", fmt.Errorf("failed to read namespace of kubeconfig context %q: %w", context, err)
	}
	return ns, nil
}
