package store

import (
	"slices"
	"testing"
)

// TestSplitCacheRetain: after a Sync, the split cache keeps what the Sync stored and every
// record its selector does not select, and drops the rest: a Sync of one cluster's endpoints
// leaves the other clusters' and the services alone.
func TestSplitCacheRetain(t *testing.T) {
	var c splitCache
	store := func(recs ...Record) {
		t.Helper()
		for _, r := range recs {
			if _, err := c.storedForm(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := func() []string {
		c.mu.Lock()
		defer c.mu.Unlock()
		var out []string
		for k := range c.m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	a, b := endpointsRecord("shop", "a", "east", 3).Freeze(), endpointsRecord("shop", "b", "east", 3).Freeze()
	w, big := endpointsRecord("shop", "a", "west", 3).Freeze(), largeEndpointsRecord("shop", "big", "east", 5000)
	svc := serviceRecord("shop", "a").Freeze()
	c.begin()
	store(a, b, w, big, svc)
	c.retain(Selector{Prefix: NamespacesPrefix})
	if got := len(keys()); got != 5 {
		t.Fatalf("after storing 5 records the cache holds %d: %v", got, keys())
	}

	c.begin()
	store(a)
	c.retain(SelectClusterEndpoints("east"))
	want := []string{a.Key().String(), w.Key().String(), svc.Key().String()}
	slices.Sort(want)
	if got := keys(); !slices.Equal(got, want) {
		t.Fatalf("after a Sync of east's endpoints with only a: %v, want %v", got, want)
	}

	c.begin()
	c.retain(SelectServices(""))
	want = slices.DeleteFunc(want, func(k string) bool { return k == svc.Key().String() })
	if got := keys(); !slices.Equal(got, want) {
		t.Fatalf("after a Sync of no service: %v, want %v", got, want)
	}
}
