package scenarios

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/system"
)

// churnRate is how many EndpointSlice changes per second arrive, over all members, while the
// hub restarts or hands over.
const churnRate = 10

// haLease is the lease timing of the highly available hub in these tests: short, so that the
// crash test is quick; the bound of a crash handover is this lease plus one second.
var haLease = []string{
	"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "1s",
}

const haLeaseDuration = 4 * time.Second

// defaultLeaseDuration is the hub's default --leader-elect-lease-duration.
const defaultLeaseDuration = 15 * time.Second

// TestHandoverEmbedded measures the propagation gap of the hub with its embedded store
// (deploy/hub-embedded, one replica) while EndpointSlice changes arrive at 10/s: across a
// graceful restart (SIGTERM, then the same hub started again on the same data) and across a
// SIGKILL followed by a restart.
func TestHandoverEmbedded(t *testing.T) {
	f := system.Start(t, system.DefaultTopology())
	f.WaitLeader()
	assertSessionTTL(t, f, defaultLeaseDuration)
	t.Run("graceful-restart", func(t *testing.T) {
		r := measureGap(t, f, "graceful", func() {
			terminateCleanly(t, f.WaitLeader())
			f.StartHub()
		})
		system.AssertGap(t, r, time.Second)
	})
	t.Run("sigkill-restart", func(t *testing.T) {
		r := measureGap(t, f, "sigkill", func() {
			f.WaitLeader().Kill()
			f.StartHub()
		})
		system.AssertGap(t, r, defaultLeaseDuration+time.Second)
	})
}

// TestHandoverHA measures the propagation gap of the highly available hub (deploy/hub: two
// replicas, an external etcd) while EndpointSlice changes arrive at 10/s: across a rolling
// upgrade (the leader SIGTERMed while the standby runs, a new replica started, and the same for
// the other old replica) and across a SIGKILL of the leader.
func TestHandoverHA(t *testing.T) {
	f := system.StartWith(t, system.DefaultTopology(), system.HubConfig{Replicas: 2, Args: haLease})
	f.WaitLeader()
	assertSessionTTL(t, f, haLeaseDuration)
	t.Run("rolling-upgrade", func(t *testing.T) {
		r := measureGap(t, f, "rolling", func() {
			for range 2 {
				terminateCleanly(t, f.WaitLeader())
				next := f.StartHub()
				f.Eventually("the new replica ready", 60*time.Second, func() (bool, string) { return next.Ready(), "not ready" })
				time.Sleep(2 * time.Second)
			}
		})
		system.AssertGap(t, r, time.Second)
	})
	t.Run("sigkill", func(t *testing.T) {
		r := measureGap(t, f, "sigkill", func() {
			f.WaitLeader().Kill()
			f.WaitLeader()
			f.StartHub()
		})
		system.AssertGap(t, r, haLeaseDuration+time.Second)
	})
}

// measureGap churns namespace ns for 3 s, disrupts the hub, churns for 5 s more and reports.
func measureGap(t *testing.T, f *system.Federation, ns string, disrupt func()) system.ChurnReport {
	t.Helper()
	c := f.StartChurn(ns, churnRate)
	time.Sleep(3 * time.Second)
	disrupt()
	time.Sleep(5 * time.Second)
	r := c.Stop()
	t.Logf("propagation at %d changes/s: %v", churnRate, r)
	return r
}

// assertSessionTTL checks that the store session of the hub's writer has the lease duration as
// its TTL: when nobody evicts a dead leader's session, it holds the store this long.
func assertSessionTTL(t *testing.T, f *system.Federation, lease time.Duration) {
	t.Helper()
	var ttls map[string]int64
	f.Eventually("a writer in the store's election", 30*time.Second, func() (bool, string) {
		var err error
		if ttls, err = f.StoreSessionTTLs(); err != nil {
			return false, err.Error()
		}
		return len(ttls) > 0, "no writer yet"
	})
	for id, ttl := range ttls {
		if want := int64(lease / time.Second); ttl != want {
			t.Errorf("store session of %s granted a TTL of %d s, want the lease duration, %d s", id, ttl, want)
		}
	}
}

// terminateCleanly sends the hub SIGTERM and checks it shut down as the handover requires: it
// exits on its own, with status 0, after resigning the store leadership and then releasing the
// Lease, and logs nothing at ERROR while doing so.
func terminateCleanly(t *testing.T, h *system.Hub) {
	t.Helper()
	before, err := os.ReadFile(h.Log)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Terminate(20 * time.Second); err != nil {
		t.Error(err)
	}
	all, err := os.ReadFile(h.Log)
	if err != nil {
		t.Fatal(err)
	}
	shutdown := string(bytes.TrimPrefix(all, before))
	for line := range strings.Lines(shutdown) {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("%s logged an error while shutting down: %s", h.Identity, line)
		}
	}
	resigned := strings.Index(shutdown, `msg="resigned store leadership"`)
	released := strings.Index(shutdown, `msg="released the hub Lease"`)
	if resigned < 0 || released < resigned {
		t.Errorf("%s: store resigned at %d, Lease released at %d in its shutdown log, want both, in that order:\n%s", h.Identity, resigned, released, shutdown)
	}
}
