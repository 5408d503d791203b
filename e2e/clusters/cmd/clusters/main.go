// Command clusters brings the real clusters of e2e/clusters up or down, for `make clusters` and
// `make clusters-down`:
//
//	go run ./e2e/clusters/cmd/clusters up [-n 3] [-no-workers]
//	go run ./e2e/clusters/cmd/clusters down
//
// `up` prints each cluster's kubeconfig path and addresses once every node is Ready.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meshfed/meshfed/e2e/clusters"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || (args[0] != "up" && args[0] != "down") {
		return fmt.Errorf("usage: clusters up [-n N] [-no-workers] | down")
	}
	fs := flag.NewFlagSet("clusters "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := clusters.Options{Log: stderr}
	fs.IntVar(&opts.N, "n", 3, "number of clusters (the last one is on network B)")
	fs.StringVar(&opts.Prefix, "prefix", "meshfed", "name prefix of the containers, networks and state directory")
	noWorkers := fs.Bool("no-workers", false, "single-node clusters only: without cluster-1's application and gateway worker nodes")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *noWorkers {
		opts.Workers = []clusters.WorkerSpec{}
	}
	if args[0] == "down" {
		return clusters.Down(ctx, opts)
	}
	start := time.Now()
	set, err := clusters.Up(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d clusters ready in %s\n", len(set.Clusters), time.Since(start).Round(time.Second))
	for i := range set.Clusters {
		c := &set.Clusters[i]
		fmt.Fprintf(stdout, "%-10s %-6s node %-12s api %-28s pods %-13s services %-13s kubeconfig %s\n",
			c.Name, c.Network, c.NodeIP, c.APIServerURL(), c.PodCIDR, c.ServiceCIDR, set.Kubeconfig(c))
		for _, n := range c.Nodes[1:] {
			fmt.Fprintf(stdout, "  worker %-22s node %-12s pods %-13s labels %v taints %v\n", n.Name, n.IP, n.PodCIDR, n.Labels, n.Taints)
		}
	}
	return nil
}
