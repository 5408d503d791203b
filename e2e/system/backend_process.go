package system

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The environment of a backend process: the test binary re-executed by Backend.Start inside the
// pod's namespace serves the echoes instead of running tests.
const (
	envBackend = "MESHFED_E2E_BACKEND" // the address to listen on
	envCluster = "MESHFED_E2E_CLUSTER"
	envZone    = "MESHFED_E2E_ZONE"
	envPod     = "MESHFED_E2E_POD"
)

// runBackendIfAsked serves the echoes and exits when the process was started as a backend.
func runBackendIfAsked() {
	addr := os.Getenv(envBackend)
	if addr == "" {
		return
	}
	if err := serveBackend(addr, os.Getenv(envCluster), os.Getenv(envZone), os.Getenv(envPod)); err != nil {
		fmt.Fprintln(os.Stderr, "e2e backend:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveBackend runs the HTTP echo (naming cluster and zone) on addr:BackendHTTPPort and the TCP
// echo on addr:BackendTCPPort until SIGTERM.
func serveBackend(addr, cluster, zone, pod string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var lc net.ListenConfig
	hl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(addr, strconv.Itoa(BackendHTTPPort)))
	if err != nil {
		return err
	}
	tl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(addr, strconv.Itoa(BackendTCPPort)))
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		w.Header().Set(HeaderCluster, cluster)
		w.Header().Set(HeaderZone, zone)
		w.Header().Set(HeaderPod, pod)
		_, _ = fmt.Fprintf(w, "%s %s %s\n", cluster, zone, pod)
	})}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(hl) })
	wg.Go(func() { serveTCPEcho(tl) })
	<-ctx.Done()
	_ = srv.Close()
	_ = tl.Close()
	wg.Wait()
	return nil
}
