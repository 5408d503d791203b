// Command echo is the test workload of e2e/clusters: `echo serve` answers every HTTP request with
// the cluster, pod and address that served it; the other subcommands are run with `kubectl exec`
// inside pods, where the image has no shell: `echo get URL` (one request), `echo lookup NAME`
// (resolve through the pod's DNS) and `echo dial ADDR` (open a TCP connection).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const timeout = 5 * time.Second

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: echo serve|get URL|lookup NAME|dial HOST:PORT")
	}
	switch args[0] {
	case "serve":
		return serve(os.Getenv("LISTEN"), identity())
	case "get", "lookup", "dial":
		if len(args) != 2 {
			return fmt.Errorf("usage: echo %s ARG", args[0])
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return client(ctx, args[0], args[1], out)
	default:
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
}

// identity is the line every response carries, from the downward API variables of the pod.
func identity() string {
	return fmt.Sprintf("cluster=%s pod=%s ip=%s", os.Getenv("CLUSTER"), os.Getenv("POD_NAME"), os.Getenv("POD_IP"))
}

func serve(addr, id string) error {
	if addr == "" {
		addr = ":8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, id)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: timeout}
	return srv.ListenAndServe()
}

func client(ctx context.Context, cmd, arg string, out io.Writer) error {
	switch cmd {
	case "get":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, arg, nil)
		if err != nil {
			return fmt.Errorf("failed to build request %s: %w", arg, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("failed to get %s: %w", arg, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if err != nil {
			return fmt.Errorf("failed to read response of %s: %w", arg, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("failed to get %s: status %s: %s", arg, resp.Status, strings.TrimSpace(string(body)))
		}
		_, err = out.Write(body)
		return err
	case "lookup":
		addrs, err := net.DefaultResolver.LookupHost(ctx, arg)
		if err != nil {
			return fmt.Errorf("failed to look up %s: %w", arg, err)
		}
		_, err = fmt.Fprintln(out, strings.Join(addrs, " "))
		return err
	default:
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", arg)
		if err != nil {
			return fmt.Errorf("failed to dial %s: %w", arg, err)
		}
		_, werr := fmt.Fprintln(out, "connected", conn.RemoteAddr())
		return errors.Join(werr, conn.Close())
	}
}
