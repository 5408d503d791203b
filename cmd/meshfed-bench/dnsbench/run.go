package dnsbench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"
)

// Result is what a run measured.
type Result struct {
	Flags Flags
	// Servers are meshfed-dns and CoreDNS, in that order.
	Servers []ServerResult
	// Memory of meshfed-dns before the imports existed and after it served them all.
	MeshfedEmpty, MeshfedLoaded Memory
	// ImportsWritten is how long writing the ServiceImports took; Followed how long after the
	// last write meshfed-dns answered the last name.
	ImportsWritten, Followed time.Duration
}

// ServerResult is one server's rounds.
type ServerResult struct {
	Name string
	// Throughput phases (Flags.Concurrency clients) and single-client phases, one per round.
	Throughput, Single []phase
	// Memory after the last round.
	Memory Memory
}

// Memory is a process's resident set and, for Go processes that export it, its heap in use.
type Memory struct {
	RSS, Heap float64 // bytes
}

// Run measures both servers; it needs kube-apiserver, etcd and CoreDNS from `make tools`.
func Run(ctx context.Context, f Flags, log *slog.Logger) (Result, error) {
	res := Result{Flags: f}
	log.Info("starting kube-apiserver and etcd")
	e, err := newEnv(log)
	if err != nil {
		return res, err
	}
	defer e.close()
	bin := f.DNSBinary
	if bin == "" {
		log.Info("building meshfed-dns")
		if bin, err = buildMeshfed(ctx, e.dir); err != nil {
			return res, err
		}
	}
	meshfed, err := e.startMeshfed(ctx, bin)
	if err != nil {
		return res, err
	}
	time.Sleep(time.Second)
	if res.MeshfedEmpty, err = memory(meshfed, true); err != nil {
		return res, err
	}
	log.Info("writing ServiceImports", "services", f.Services)
	began := time.Now()
	if err := e.createImports(ctx, f.Services); err != nil {
		return res, err
	}
	res.ImportsWritten = time.Since(began)
	last := query{name: nameOf(f.Services-1) + "." + namespaceOf(f.Services-1) + ".mesh.internal.", qtype: 1}
	written := time.Now()
	if err := waitUntil(ctx, meshfed.proc, time.Minute, func() bool { return answers(meshfed.addr, last) }); err != nil {
		return res, err
	}
	res.Followed = time.Since(written)
	time.Sleep(2 * time.Second) // let the last rebuild's garbage go
	if res.MeshfedLoaded, err = memory(meshfed, true); err != nil {
		return res, err
	}
	log.Info("starting CoreDNS")
	coredns, err := e.startCoreDNS(ctx, f.Services)
	if err != nil {
		return res, err
	}
	qs, err := querySet(f.Services)
	if err != nil {
		return res, err
	}
	if err := sameAnswers(meshfed, coredns, sample(qs, 500)); err != nil {
		return res, fmt.Errorf("the servers do not serve the same names: %w", err)
	}
	servers := []*server{meshfed, coredns}
	res.Servers = []ServerResult{{Name: meshfed.name}, {Name: coredns.name}}
	for r := range f.Rounds {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			s := servers[i]
			log.Info("measuring", "round", r+1, "server", s.name)
			if _, err := closedLoop(ctx, s.addr, qs, f.Concurrency, f.Warmup, uint64(r)); err != nil {
				return res, err
			}
			tp, err := closedLoop(ctx, s.addr, qs, f.Concurrency, f.Duration, uint64(r))
			if err != nil {
				return res, err
			}
			single, err := closedLoop(ctx, s.addr, qs, 1, f.Duration, uint64(r))
			if err != nil {
				return res, err
			}
			res.Servers[i].Throughput = append(res.Servers[i].Throughput, tp)
			res.Servers[i].Single = append(res.Servers[i].Single, single)
		}
	}
	for i, s := range servers {
		if res.Servers[i].Memory, err = memory(s, i == 0); err != nil {
			return res, err
		}
	}
	return res, nil
}

// memory reads a server's RSS, and its Go heap when it is meshfed-dns, from its metrics.
func memory(s *server, goHeap bool) (Memory, error) {
	var m Memory
	var err error
	if m.RSS, err = metric(s.metrics, "process_resident_memory_bytes"); err != nil {
		return m, err
	}
	if goHeap {
		m.Heap, err = metric(s.metrics, "go_memstats_heap_inuse_bytes")
	}
	return m, err
}

// sample picks n queries of qs at random, the same ones every run.
func sample(qs []query, n int) []query {
	rng := rand.New(rand.NewPCG(1, 2))
	out := slices.Clone(qs)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(n, len(out))]
}
