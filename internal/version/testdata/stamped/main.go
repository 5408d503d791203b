// Command stamped prints version.String, for the -ldflags test of package version.
package main

import (
	"fmt"

	"github.com/meshfed/meshfed/internal/version"
)

func main() {
	fmt.Println(version.Get().String("stamped"))
}
