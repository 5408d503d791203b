package system

import (
	"testing"
	"time"

	"github.com/meshfed/meshfed/internal/benchbounds"
)

// EnforceGapBounds makes a propagation gap above its bound fail the test (AssertGap): only
// under `make bench` (see benchbounds). In the test suite a gap above its bound is logged, and
// what fails is a lost change or key.
var EnforceGapBounds = benchbounds.Enforced()

// AssertGap fails the test when a change was lost or refused or a store key was deleted or lost,
// and (with EnforceGapBounds) when a change took longer than bound to reach the store.
func AssertGap(t testing.TB, r ChurnReport, bound time.Duration) {
	t.Helper()
	switch {
	case r.Max > bound && EnforceGapBounds:
		t.Errorf("propagation gap %v, want at most %v", r.Max.Round(time.Millisecond), bound)
	case r.Max > bound:
		t.Logf("propagation gap %v is above its bound %v (enforced by make bench only)", r.Max.Round(time.Millisecond), bound)
	}
	if r.Changes == 0 || r.Missing > 0 || r.Failed > 0 {
		t.Errorf("%d changes arrived, %d never did, %d were refused", r.Changes, r.Missing, r.Failed)
	}
	if len(r.Deleted) > 0 || len(r.Lost) > 0 {
		t.Errorf("store keys deleted %v, lost %v", r.Deleted, r.Lost)
	}
}
