// Command meshfed-hub runs the meshfed hub: it joins member clusters, merges their exports into
// global services and publishes them through the federation store.
package main

import (
	"github.com/meshfed/meshfed/cmd/meshfed-hub/app"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() { cmdline.Main(app.NewCommand()) }
