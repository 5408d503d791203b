package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// nodeTimeout bounds reading the waypoint's Node at start.
const nodeTimeout = 10 * time.Second

// nodes is the core/v1 Node resource. The waypoint reads only its metadata (labels), so the
// metadata client serves, and the binary does not link the typed clientset of every API group.
var nodes = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}

// needsNode reports whether the locality is incomplete and a Node name is known to read it from.
func (o *Options) needsNode() bool {
	return o.Node != "" && (o.Region == "" || o.Zone == "" || o.Subzone == "")
}

// kubeConfig is --kubeconfig, else the in-cluster config when running in a pod, else none.
func (o *Options) kubeConfig() (*rest.Config, error) {
	if o.Kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, nil
	}
	return rest.InClusterConfig()
}

// fillLocality reads the waypoint's Node (DESIGN §6: locality from its Node) and fills the
// region, zone and subzone that no flag set, from the Node's topology labels. The downward API
// cannot pass Node labels, hence the read (meshfedctl waypoint apply grants get on nodes).
// Without a Kubernetes config nothing is read; a failed read is logged and the waypoint runs
// with what the flags gave, which only moves it to a coarser tier order.
func (o *Options) fillLocality(ctx context.Context, log *slog.Logger) {
	if !o.needsNode() {
		return
	}
	cfg, err := o.kubeConfig()
	if err == nil && cfg == nil {
		return
	}
	if err == nil {
		err = o.readNode(ctx, cfg)
	}
	if err != nil {
		log.Warn("cannot read the waypoint's Node for its locality; using the flags only", "node", o.Node, "error", err)
		return
	}
	log.Info("locality from the Node", "node", o.Node, "region", o.Region, "zone", o.Zone, "subzone", o.Subzone)
}

func (o *Options) readNode(ctx context.Context, cfg *rest.Config) error {
	c, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	n, err := c.Resource(nodes).Get(ctx, o.Node, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("failed to get node %s: %w", o.Node, err)
	}
	o.Region = cmp.Or(o.Region, n.Labels[wellknown.RegionLabel])
	o.Zone = cmp.Or(o.Zone, n.Labels[wellknown.ZoneLabel])
	o.Subzone = cmp.Or(o.Subzone, n.Labels[wellknown.SubzoneLabel])
	return nil
}
