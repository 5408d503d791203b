package waypoint

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Drain is what a waypoint pod does when it is told to stop (meshfed-waypoint's
// --shutdown-delay and --drain-timeout): it fails /readyz at once and keeps serving for
// ShutdownDelay, while the endpoints of its Services drop it everywhere; then it closes its
// listeners and waits up to Timeout for the connections, requests and tunnels in flight to end.
type Drain struct {
	ShutdownDelay time.Duration
	Timeout       time.Duration
}

// Defaults of Drain. Kubernetes takes a terminating pod out of its Services' EndpointSlices
// at once, but every node's kube-proxy, and the peers that reach the pod through a load
// balancer, take a few seconds to follow.
const (
	DefaultShutdownDelay = 5 * time.Second
	DefaultDrainTimeout  = 20 * time.Second
	// MaxDrain bounds each of the two durations.
	MaxDrain = time.Hour
	// graceMargin is added to the termination grace period for the process to exit after
	// the drain timeout, before the kubelet kills it.
	graceMargin = 5 * time.Second
)

// DefaultDrain is the drain apply configures without flags.
func DefaultDrain() Drain {
	return Drain{ShutdownDelay: DefaultShutdownDelay, Timeout: DefaultDrainTimeout}
}

// gracePeriodSeconds is the pod's terminationGracePeriodSeconds: the whole drain and a margin,
// so that the kubelet never kills a waypoint that is still finishing requests.
func (d Drain) gracePeriodSeconds() int64 {
	return int64(math.Ceil((d.ShutdownDelay + d.Timeout + graceMargin).Seconds()))
}

// env passes the drain to meshfed-waypoint.
func (d Drain) env() []corev1.EnvVar {
	return []corev1.EnvVar{
		{Name: "MESHFED_SHUTDOWN_DELAY", Value: d.ShutdownDelay.String()},
		{Name: "MESHFED_DRAIN_TIMEOUT", Value: d.Timeout.String()},
	}
}

// validate checks the --shutdown-delay and --drain-timeout values.
func (d Drain) validate() error {
	for _, v := range []struct {
		flag string
		d    time.Duration
	}{{"shutdown-delay", d.ShutdownDelay}, {"drain-timeout", d.Timeout}} {
		if v.d < 0 || v.d > MaxDrain {
			return fmt.Errorf("invalid --%s %s: want 0 to %s", v.flag, v.d, MaxDrain)
		}
	}
	return nil
}
