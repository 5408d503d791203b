// Command meshfed-dns answers the federation's names in one member cluster:
// <name>.<ns>.<segment domain>, <name>.<ns>.svc.clusterset.local and, where takeover is on,
// <name>.<ns>.svc.cluster.local, from the ServiceImports the hub writes into that cluster. The
// cluster's CoreDNS forwards those zones to it.
package main

import (
	"github.com/meshfed/meshfed/cmd/meshfed-dns/app"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() { cmdline.Main(app.NewCommand()) }
