package waypointbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// profiler fetches the profiles of one path's waypoints from their admin servers
// (--profiling): a CPU profile over the measured window, a heap profile at its end.
type profiler struct {
	dir, path string
	nodes     []node
	wg        sync.WaitGroup
	mu        sync.Mutex
	errs      []error
}

// waypointsOf leaves the relay, which serves no profiles, out of nodes.
func waypointsOf(nodes []node) []node {
	var out []node
	for _, n := range nodes {
		if !n.relay {
			out = append(out, n)
		}
	}
	return out
}

// startCPU begins a CPU profile of every waypoint lasting d (whole seconds, at least 1).
func (p *profiler) startCPU(ctx context.Context, d time.Duration) {
	secs := max(int(d/time.Second), 1)
	for _, n := range p.nodes {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.fetch(ctx, n, "profile?seconds="+strconv.Itoa(secs), "cpu", time.Duration(secs)*time.Second+30*time.Second)
		}()
	}
}

// finish fetches the heap profiles, waits for the CPU profiles and returns what failed.
func (p *profiler) finish(ctx context.Context) error {
	for _, n := range p.nodes {
		p.fetch(ctx, n, "heap", "heap", 30*time.Second)
	}
	p.wg.Wait()
	return errors.Join(p.errs...)
}

// fetch writes /debug/pprof/<query> of n to <dir>/<path>.<node>.<kind>.pprof.
func (p *profiler) fetch(ctx context.Context, n node, query, kind string, timeout time.Duration) {
	err := func() error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.adminURL()+"/debug/pprof/"+query, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		f, err := os.Create(filepath.Join(p.dir, strings.ReplaceAll(p.path, "/", "-")+"."+n.Name+"."+kind+".pprof"))
		if err != nil {
			return err
		}
		_, err = io.Copy(f, resp.Body)
		return errors.Join(err, f.Close())
	}()
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, fmt.Errorf("failed to fetch the %s profile of %s: %w", kind, n.Name, err))
		p.mu.Unlock()
	}
}
