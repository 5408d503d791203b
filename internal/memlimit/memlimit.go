// Package memlimit gives the Go heap a soft limit below the container's memory limit.
//
// Without one, the Go runtime lets the heap grow to twice what it held live after the last
// collection (GOGC=100), whatever the container may use: a hub that writes a million endpoints
// in its first pass peaks at over twice its live heap and is killed by the kernel under a limit
// it would otherwise fit in. With a soft limit the collector runs more often as the heap nears
// it, trading CPU for memory. Set reads the limit of the process's memory cgroup and gives the
// heap Share of it, unless GOMEMLIMIT is set (the runtime then already has the user's limit).
package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// Share is the part of the container's memory limit given to the Go heap, in quarters: the
// rest is for what the runtime's limit does not hold back (stacks, buffers outside the heap)
// and for file pages the process maps, such as the embedded etcd's database.
const Share = 3

// Soft is the Go memory limit Set gives for a container limit of limit bytes.
func Soft(limit int64) int64 { return limit / 4 * Share }

// noLimit is the least value cgroup v1 reports for a cgroup without a limit (its page
// counter's maximum, rounded to pages): anything this large means none.
const noLimit = 1 << 62

// Parse reads a cgroup memory limit file: cgroup v2's memory.max ("max" or bytes) or v1's
// memory.limit_in_bytes (bytes, a huge value when there is none). ok is false when it sets no
// limit.
func Parse(content string) (limit int64, ok bool, err error) {
	s := strings.TrimSpace(content)
	if s == "max" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false, fmt.Errorf("memory limit %q is not a positive number of bytes", s)
	}
	if n >= noLimit {
		return 0, false, nil
	}
	return n, true, nil
}

// Read reads the memory limit of the cgroup mounted at root (/sys/fs/cgroup in a container):
// cgroup v2's memory.max, else v1's memory/memory.limit_in_bytes. ok is false when neither
// file exists or the cgroup sets no limit.
func Read(root string) (limit int64, ok bool, err error) {
	for _, name := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, false, err
		}
		return Parse(string(b))
	}
	return 0, false, nil
}

// Set gives the Go heap Soft of the memory limit of the cgroup mounted at root, unless getenv
// says GOMEMLIMIT is set. It returns the limit it set, 0 when it set none.
func Set(root string, getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	limit, ok, err := Read(root)
	if err != nil || !ok {
		return 0, err
	}
	soft := Soft(limit)
	debug.SetMemoryLimit(soft)
	return soft, nil
}
