package waypoint

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The measured cost of a waypoint the resource defaults are derived from (meshfed-bench, see
// cmd/meshfed-bench/README.md and the waypoint section of the README): at a steady 1,000
// requests/s a waypoint with GOMAXPROCS 2 used 0.23–0.29 cores on the same network and up to
// 0.38 cores sending through HBONE (0.30–0.31 receiving), with a peak RSS of 30–40 MiB, start-up
// included. Memory did not shrink at lower rates.
const (
	// cpuMilliPer1k is the CPU request per 1,000 requests/s: the highest measured cost, 0.385
	// cores, rounded up.
	cpuMilliPer1k = 400
	// memoryMiBPer1k is the peak RSS at 1,000 requests/s, also the floor below that rate.
	memoryMiBPer1k = 40
	// memoryHeadroomPercent is added to the measured peak for the request: Go's heap grows to
	// twice what is live before a collection (GOGC 100), and a run's peak varied by 10 MiB.
	memoryHeadroomPercent = 50
	// memoryStepMiB rounds the memory request up.
	memoryStepMiB = 16
	// memoryLimitFactor sets the memory limit above the request. An OOM kill drops every
	// connection and tunnel of the pod, so the limit only stops a runaway pod; the HBONE
	// limits (--hbone-max-* of meshfed-waypoint) bound what callers can make it hold.
	memoryLimitFactor = 4
)

// DefaultPodRPS is the load, in requests per second, one pod's resources are sized for by
// default: the rate the costs above were measured at.
const DefaultPodRPS = 1000

// MaxPodRPS bounds --pod-rps (a million requests/s is far past what one pod serves).
const MaxPodRPS = 1_000_000

// Resources are the container's requests and limits. A zero Quantity is derived by
// DefaultResources; a limit set to 0 on the command line means no limit (NoLimit).
type Resources struct {
	CPURequest, CPULimit       resource.Quantity
	MemoryRequest, MemoryLimit resource.Quantity
}

// DefaultResources derives requests and limits for a pod sized for podRPS requests/s with
// GOMAXPROCS procs (0: Go's default):
//
//	CPU request    = 400m × podRPS / 1,000, rounded up to a millicore
//	memory request = 40 MiB × max(1, podRPS / 1,000) × 1.5, rounded up to 16 MiB
//	memory limit   = 4 × memory request
//	CPU limit      = max(procs cores, CPU request) with procs > 0; none with procs 0, which
//	                 leaves Go to size itself from the limit or the node
//
// At the default 1,000 requests/s and 2 procs: 400m and 64Mi requested, 2 cores and 256Mi at
// most. With GOMAXPROCS 2 the Go code of a pod runs on at most two cores at once, so a limit of
// two cores throttles only the threads blocked in system calls beyond them.
func DefaultResources(podRPS, procs int32) Resources {
	cpuMilli := (int64(podRPS)*cpuMilliPer1k + 999) / 1000
	scale := max(int64(podRPS), 1000)
	memMiB := (memoryMiBPer1k*scale*(100+memoryHeadroomPercent) + 1000*100 - 1) / (1000 * 100)
	memMiB = (memMiB + memoryStepMiB - 1) / memoryStepMiB * memoryStepMiB
	r := Resources{
		CPURequest:    *resource.NewMilliQuantity(cpuMilli, resource.DecimalSI),
		MemoryRequest: *resource.NewQuantity(memMiB<<20, resource.BinarySI),
		MemoryLimit:   *resource.NewQuantity(memoryLimitFactor*memMiB<<20, resource.BinarySI),
	}
	if procs > 0 {
		r.CPULimit = *resource.NewMilliQuantity(max(int64(procs)*1000, cpuMilli), resource.DecimalSI)
	}
	return r
}

// requirements is the container's ResourceRequirements; a zero limit is left out.
func (r Resources) requirements() corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: r.CPURequest, corev1.ResourceMemory: r.MemoryRequest,
	}}
	limits := corev1.ResourceList{}
	if !r.CPULimit.IsZero() {
		limits[corev1.ResourceCPU] = r.CPULimit
	}
	if !r.MemoryLimit.IsZero() {
		limits[corev1.ResourceMemory] = r.MemoryLimit
	}
	if len(limits) > 0 {
		out.Limits = limits
	}
	return out
}

// ResourceFlags are the --cpu-* and --memory-* values as typed, "" for the derived default.
type ResourceFlags struct {
	CPURequest, CPULimit, MemoryRequest, MemoryLimit string
}

// Resolve fills what f leaves empty from DefaultResources(podRPS, procs) and checks the result:
// quantities must parse, requests be positive, a limit 0 (none) or at least its request.
func (f ResourceFlags) Resolve(podRPS, procs int32) (Resources, error) {
	r := DefaultResources(podRPS, procs)
	var errs []string
	set := func(flag, value string, dst *resource.Quantity, limit bool) {
		if value == "" {
			return
		}
		q, err := resource.ParseQuantity(value)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("invalid --%s %q: %v", flag, value, err))
		case q.Sign() < 0 || (!limit && q.Sign() == 0):
			errs = append(errs, fmt.Sprintf("invalid --%s %q: must be positive%s", flag, value, map[bool]string{true: " (0: no limit)"}[limit]))
		default:
			*dst = q
		}
	}
	set("cpu-request", f.CPURequest, &r.CPURequest, false)
	set("cpu-limit", f.CPULimit, &r.CPULimit, true)
	set("memory-request", f.MemoryRequest, &r.MemoryRequest, false)
	set("memory-limit", f.MemoryLimit, &r.MemoryLimit, true)
	if len(errs) == 0 {
		if !r.CPULimit.IsZero() && r.CPULimit.Cmp(r.CPURequest) < 0 {
			errs = append(errs, fmt.Sprintf("--cpu-limit %s is below the CPU request %s", r.CPULimit.String(), r.CPURequest.String()))
		}
		if !r.MemoryLimit.IsZero() && r.MemoryLimit.Cmp(r.MemoryRequest) < 0 {
			errs = append(errs, fmt.Sprintf("--memory-limit %s is below the memory request %s", r.MemoryLimit.String(), r.MemoryRequest.String()))
		}
	}
	if len(errs) > 0 {
		return Resources{}, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return r, nil
}

// Autoscale configures a HorizontalPodAutoscaler of the waypoint Deployment.
type Autoscale struct {
	Min, Max int32
	// CPUPercent is the target average CPU use, in percent of the CPU request.
	CPUPercent int32
}

// Bounds of --autoscale and --autoscale-cpu.
const (
	MaxAutoscaleReplicas     = 1000
	DefaultAutoscaleCPU      = 70
	maxAutoscaleCPUPercent   = 1000
	autoscaleSyntax          = "want MIN:MAX, 1 ≤ MIN ≤ MAX ≤ 1000"
	autoscaleCPUSyntaxFormat = "invalid --autoscale-cpu %d: want a percentage of the CPU request, 1 to %d"
)

// ParseAutoscale reads --autoscale MIN:MAX.
func ParseAutoscale(s string) (lo, hi int32, err error) {
	from, to, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("invalid --autoscale %q: %s", s, autoscaleSyntax)
	}
	parse := func(v string) (int32, bool) {
		n, err := strconv.ParseInt(v, 10, 32)
		return int32(n), err == nil && n >= 1 && n <= MaxAutoscaleReplicas && !strings.HasPrefix(v, "+")
	}
	a, okA := parse(from)
	b, okB := parse(to)
	if !okA || !okB || a > b {
		return 0, 0, fmt.Errorf("invalid --autoscale %q: %s", s, autoscaleSyntax)
	}
	return a, b, nil
}

// validateCPUPercent checks --autoscale-cpu.
func validateCPUPercent(p int32) error {
	if p < 1 || p > maxAutoscaleCPUPercent {
		return fmt.Errorf(autoscaleCPUSyntaxFormat, p, maxAutoscaleCPUPercent)
	}
	return nil
}
