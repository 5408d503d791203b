package app

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfed-waypoint/app/kubeapi"
)

// nodeTimeout bounds reading the waypoint's Node at start.
const nodeTimeout = 10 * time.Second

// needsNode reports whether the locality is incomplete and a Node name is known to read it from.
func (o *Options) needsNode() bool {
	return o.Node != "" && (o.Region == "" || o.Zone == "" || o.Subzone == "")
}

// apiServer is --kubeconfig's, else the pod's cluster's when running in a pod, else none.
func (o *Options) apiServer() (*kubeapi.Server, error) {
	if o.Kubeconfig != "" {
		return kubeapi.FromKubeconfig(o.Kubeconfig)
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, nil
	}
	return kubeapi.InCluster(kubeapi.ServiceAccountDir, host, port)
}

// fillLocality reads the waypoint's Node (locality comes from its Node) and fills the region,
// zone and subzone that no flag set, from the Node's topology labels. The downward API cannot
// pass Node labels, hence the read (meshfedctl waypoint apply grants get on nodes). Without a
// Kubernetes API server nothing is read; a failed read is logged and the waypoint runs with
// what the flags gave, which only moves it to a coarser tier order.
func (o *Options) fillLocality(ctx context.Context, log *slog.Logger) {
	if !o.needsNode() {
		return
	}
	s, err := o.apiServer()
	if err == nil && s == nil {
		return
	}
	if err == nil {
		err = o.readNode(ctx, s)
	}
	if err != nil {
		log.Warn("cannot read the waypoint's Node for its locality; using the flags only", "node", o.Node, "error", err)
		return
	}
	log.Info("locality from the Node", "node", o.Node, "region", o.Region, "zone", o.Zone, "subzone", o.Subzone)
}

func (o *Options) readNode(ctx context.Context, s *kubeapi.Server) error {
	ctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	labels, err := s.NodeLabels(ctx, o.Node)
	if err != nil {
		return err
	}
	o.Region = cmp.Or(o.Region, labels[wellknown.RegionLabel])
	o.Zone = cmp.Or(o.Zone, labels[wellknown.ZoneLabel])
	o.Subzone = cmp.Or(o.Subzone, labels[wellknown.SubzoneLabel])
	return nil
}
