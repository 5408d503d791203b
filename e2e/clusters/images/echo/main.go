// Command echo is the test workload of e2e/clusters: `echo serve` answers every HTTP request with
// the cluster, pod and address that served it; the other subcommands are run with `kubectl exec`
// inside pods, where the image has no shell: `echo get URL` (one request), `echo lookup NAME`
// (resolve through the pod's DNS), `echo dial ADDR` (open a TCP connection), and the loops that
// print a JSON summary: `echo lookups NAME COUNT` (resolution latency) and `echo load URL COUNT
// INTERVAL` (requests one after the other, each on a new connection, so each resolves the name).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
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
		return fmt.Errorf("usage: echo serve|get URL|lookup NAME|dial HOST:PORT|lookups NAME COUNT|load URL COUNT INTERVAL")
	}
	switch args[0] {
	case "serve":
		return serve(os.Getenv("LISTEN"), identity())
	case "lookups", "load":
		return loop(args, out)
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

// maxCount bounds the loops: a test's request budget, never an endless load.
const maxCount = 10000

// loop runs `lookups NAME COUNT` or `load URL COUNT INTERVAL` and prints its summary as JSON.
func loop(args []string, out io.Writer) error {
	want := map[string]int{"lookups": 3, "load": 4}[args[0]]
	if len(args) != want {
		return fmt.Errorf("usage: echo lookups NAME COUNT | echo load URL COUNT INTERVAL")
	}
	count, err := strconv.Atoi(args[2])
	if err != nil || count < 1 || count > maxCount {
		return fmt.Errorf("failed to parse count %q: want 1..%d", args[2], maxCount)
	}
	var sum summary
	if args[0] == "lookups" {
		sum = lookups(args[1], count)
	} else {
		interval, err := time.ParseDuration(args[3])
		if err != nil || interval < 0 || interval > time.Minute {
			return fmt.Errorf("failed to parse interval %q: want a duration up to 1m", args[3])
		}
		sum = load(args[1], count, interval)
	}
	return json.NewEncoder(out).Encode(sum)
}

// summary is what a loop prints: outcomes, the first errors, and latency percentiles.
type summary struct {
	// Answers counts the successful outcomes: by the cluster that answered (load) or by the
	// addresses resolved (lookups).
	Answers map[string]int `json:"answers"`
	Failed  int            `json:"failed"`
	Errors  []string       `json:"errors,omitempty"`
	P50     time.Duration  `json:"p50"`
	P99     time.Duration  `json:"p99"`
	Max     time.Duration  `json:"max"`
	Elapsed time.Duration  `json:"elapsed"`
}

func (s *summary) fail(err error) {
	s.Failed++
	if len(s.Errors) < 5 {
		s.Errors = append(s.Errors, err.Error())
	}
}

// finish sets the latency figures from the successful outcomes' durations.
func (s *summary) finish(took []time.Duration, start time.Time) {
	s.Elapsed = time.Since(start)
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	s.P50, s.P99, s.Max = took[len(took)/2], took[(len(took)*99)/100], took[len(took)-1]
}

// lookups resolves name count times, one after the other (the pod's resolver caches nothing).
func lookups(name string, count int) summary {
	sum := summary{Answers: map[string]int{}}
	var took []time.Duration
	start := time.Now()
	for range count {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		t0 := time.Now()
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		if err != nil {
			sum.fail(err)
			continue
		}
		took = append(took, time.Since(t0))
		slices.Sort(addrs)
		sum.Answers[strings.Join(addrs, " ")]++
	}
	sum.finish(took, start)
	return sum
}

// load sends count GETs to url, interval apart, each on a new connection; the answering
// cluster is the first field of the echo server's reply.
func load(url string, count int, interval time.Duration) summary {
	sum := summary{Answers: map[string]int{}}
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var took []time.Duration
	start := time.Now()
	for i := range count {
		if i > 0 {
			time.Sleep(interval)
		}
		t0 := time.Now()
		body, err := getOnce(hc, url)
		if err != nil {
			sum.fail(err)
			continue
		}
		took = append(took, time.Since(t0))
		cluster, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(body), "cluster="), " ")
		sum.Answers[cluster]++
	}
	sum.finish(took, start)
	return sum
}

func getOnce(hc *http.Client, url string) (string, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return "", fmt.Errorf("failed to get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", fmt.Errorf("failed to read response of %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("failed to get %s: status %s", url, resp.Status)
	}
	return string(body), nil
}
