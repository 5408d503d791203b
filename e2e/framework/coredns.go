package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CoreDNSVersion is the release of CoreDNS that e2e/tools/coredns/build.sh builds; it names the
// default directory.
const CoreDNSVersion = "v1.15.0"

// EnvCoreDNSDir is the output directory of e2e/tools/coredns/build.sh.
const EnvCoreDNSDir = "MESHFED_COREDNS_DIR"

// ErrCoreDNSMissing reports that the coredns binary is not where CoreDNSBinary looks; run
// `make tools` (bash e2e/tools/coredns/build.sh) to build it.
var ErrCoreDNSMissing = errors.New("coredns missing: run `make tools` (bash e2e/tools/coredns/build.sh)")

// CoreDNSBinary returns the path of the coredns binary: in $MESHFED_COREDNS_DIR if set, else in
// ${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/coredns-<CoreDNSVersion>, where
// e2e/tools/coredns/build.sh writes it. The error wraps ErrCoreDNSMissing when it is not an
// executable file there.
func CoreDNSBinary() (string, error) {
	dir := os.Getenv(EnvCoreDNSDir)
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("failed to find home directory for coredns %s: %w", CoreDNSVersion, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "meshfed", "coredns-"+CoreDNSVersion)
	}
	bin := filepath.Join(dir, "coredns")
	if err := checkExecutable(bin); err != nil {
		return "", fmt.Errorf("failed to find %s: %w: %w", bin, ErrCoreDNSMissing, err)
	}
	return bin, nil
}
