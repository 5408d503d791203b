package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// namespacePoll is how often the hub looks for its missing namespace.
var namespacePoll = 2 * time.Second

// awaitNamespace returns once --namespace exists on the hub cluster. The leader Lease and the
// member Secrets live there; without it the hub would fail every few seconds with an error
// that does not say what to do. So it says once, as a warning, how to create the namespace,
// and waits quietly (meshfedctl join creates it too). A hub whose RBAC may not read
// Namespaces (deploy/hub grants none) runs in a pod whose Role lives in that namespace, so
// Forbidden counts as present. It returns ctx's error when ctx ends first.
func awaitNamespace(ctx context.Context, cfg *rest.Config, ns string, log *slog.Logger) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create hub client: %w", err)
	}
	warned := false
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		switch {
		case err == nil, apierrors.IsForbidden(err):
			if warned {
				log.Info("hub namespace exists now", "namespace", ns)
			}
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case apierrors.IsNotFound(err) && !warned:
			warned = true
			log.Warn(fmt.Sprintf("namespace %s does not exist on the hub cluster; waiting for it. Create it "+
				"(kubectl create namespace %s; deploy/hub and deploy/hub-embedded create it, so does meshfedctl join), "+
				"or pass --namespace", ns, ns), "namespace", ns, "server", cfg.Host)
		case apierrors.IsNotFound(err):
			log.Debug("hub namespace still missing", "namespace", ns)
		default:
			log.Warn("cannot read the hub namespace; retrying", "namespace", ns, "server", cfg.Host, "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(namespacePoll):
		}
	}
}
