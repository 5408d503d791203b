package framework

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ModulePath is the module whose go.mod marks the repository root.
const ModulePath = "github.com/meshfed/meshfed"

// ErrRepoRootNotFound reports that no parent of the start directory holds
// the go.mod of ModulePath.
var ErrRepoRootNotFound = errors.New("repository root not found")

// RepoRoot walks up from dir to the directory whose go.mod declares
// ModulePath. Nested modules (such as e2e/tools) are passed over.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("failed to resolve directory %s: %w", dir, err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		switch {
		case err == nil && modulePath(data) == ModulePath:
			return dir, nil
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("failed to read go.mod in %s: %w", dir, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("failed to find go.mod of %s above %s: %w", ModulePath, dir, ErrRepoRootNotFound)
		}
		dir = parent
	}
}

// modulePath returns the path on the module line of a go.mod file, or "" if
// there is none. It accepts the quoted and the bare form and ignores
// comments, as the go command does.
func modulePath(gomod []byte) string {
	scanner := bufio.NewScanner(bytes.NewReader(gomod))
	for scanner.Scan() {
		line := scanner.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || fields[0] != "module" {
			continue
		}
		if unquoted, err := strconv.Unquote(fields[1]); err == nil {
			return unquoted
		}
		return fields[1]
	}
	return ""
}
