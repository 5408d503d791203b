package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// boundToTest returns a program that runs bin, to be started by this process, and that the
// kernel kills with SIGKILL when the thread that started it dies: a wrapper script in dir that
// execs bin under `setpriv --pdeathsig KILL` (util-linux). envtest stops its API servers and
// etcds on Cleanup, but a test binary killed by its -timeout or a signal runs no Cleanup and
// left them running. Where setpriv is missing, bin is returned as it is.
func boundToTest(dir, bin string) (string, error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return bin, nil //nolint:nilerr // no setpriv: run bin unbound, as before
	}
	wrapper := filepath.Join(dir, filepath.Base(bin)+"-bound")
	script := fmt.Sprintf("#!/bin/sh\nexec %s --pdeathsig KILL -- %s \"$@\"\n", shellQuote(setpriv), shellQuote(bin))
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		return "", fmt.Errorf("failed to write %s: %w", wrapper, err)
	}
	return wrapper, nil
}

// shellQuote quotes s as one word for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
