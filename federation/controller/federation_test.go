package controller

import (
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/store"
)

// TestDebounceLeft: a burst waits Debounce from its first event, counting the time it already
// waited while a pass ran, never longer and never less than nothing.
func TestDebounceLeft(t *testing.T) {
	const d = 20 * time.Millisecond
	now := time.Unix(1000, 0)
	at := func(ago time.Duration) int64 { return now.Add(-ago).UnixNano() }
	for _, tc := range []struct {
		name  string
		woken int64
		want  time.Duration
	}{
		{"first event unknown", 0, d},
		{"event just now", at(0), d},
		{"event during a pass 5ms ago", at(5 * time.Millisecond), 15 * time.Millisecond},
		{"event exactly Debounce ago", at(d), 0},
		{"event during a long pass", at(300 * time.Millisecond), 0},
		{"clock stepped back: event in the future", at(-time.Second), d},
	} {
		if got := debounceLeft(d, tc.woken, now); got != tc.want {
			t.Errorf("%s: debounceLeft = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRenewViews: the federation's store views live viewsRenewal Resync periods and are then
// made anew (their first Refresh reads the whole store), and the members' derivations are
// forgotten with them (the pass derives every member again); without a Resync they are kept.
func TestRenewViews(t *testing.T) {
	const resync = 30 * time.Second
	start := time.Unix(1000, 0)
	now := start
	f := NewFederation(nil, &store.Client{}, nil, FederationOptions{Resync: resync}, nil)
	f.now = func() time.Time { return now }
	f.views = newStoreViews(f.store, start)
	first := f.views
	f.derived = derivedMembers{"east-1": {}}
	now = start.Add(viewsRenewal*resync - time.Second)
	f.renewViews()
	if f.views.namespaces != first.namespaces || f.views.gateways != first.gateways {
		t.Fatal("views made anew before viewsRenewal Resync periods")
	}
	if len(f.derived) != 1 {
		t.Fatal("derivations forgotten while the views were kept")
	}
	now = start.Add(viewsRenewal * resync)
	f.renewViews()
	if f.views.namespaces == first.namespaces || f.views.gateways == first.gateways || !f.views.made.Equal(now) {
		t.Fatalf("views not made anew after viewsRenewal Resync periods: %+v", f.views)
	}
	if len(f.derived) != 0 {
		t.Fatalf("derivations %v kept when the views were made anew", f.derived)
	}
	f.opts.Resync = 0
	kept := f.views
	now = now.Add(24 * time.Hour)
	f.renewViews()
	if f.views != kept {
		t.Fatal("views made anew without a Resync period")
	}
}
