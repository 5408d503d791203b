// Command meshfed-waypoint runs a namespace's waypoint: it follows the federation store and
// balances connections to the namespace's global services by locality tiers, reaching
// endpoints on other networks through HBONE tunnels to their cluster's waypoints and serving
// HBONE for the waypoints of other networks (with --cert-file, --key-file and --ca-file).
package main

import (
	"os"

	"github.com/meshfed/meshfed/cmd/meshfed-waypoint/app"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() { cmdline.Main(app.NewCommand(os.Getenv)) }
