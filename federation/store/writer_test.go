package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestPutGetListRoundTrip(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	records := []Record{
		clusterRecord("east"),
		serviceRecord("shop", "cart"),
		endpointsRecord("shop", "cart", "east", 3),
		waypointsRecord("shop", "east"),
	}
	for _, r := range records {
		written, err := w.Put(ctx, r)
		if err != nil || !written {
			t.Fatalf("Put(%s) = %v, %v; want written", r.Key(), written, err)
		}
	}
	for _, r := range records {
		e, found, err := w.client.Get(ctx, r.Key())
		if err != nil || !found {
			t.Fatalf("Get(%s) = found %v, %v", r.Key(), found, err)
		}
		if !reflect.DeepEqual(e.Record, r) {
			t.Fatalf("Get(%s) = %+v, want %+v", r.Key(), e.Record, r)
		}
	}
	ns, err := w.client.List(ctx, NamespacePrefix("shop"))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(ns.Errors) != 0 || len(ns.Services()) != 1 || len(ns.Endpoints()) != 1 || len(ns.Waypoints()) != 1 || len(ns.Clusters()) != 0 {
		t.Fatalf("List(shop) = %d services, %d endpoints, %d waypoints, %d clusters, errors %v",
			len(ns.Services()), len(ns.Endpoints()), len(ns.Waypoints()), len(ns.Clusters()), ns.Errors)
	}
	clusters, err := w.client.List(ctx, ClustersPrefix)
	if err != nil || len(clusters.Clusters()) != 1 || !reflect.DeepEqual(clusters.Clusters()[0], records[0]) {
		t.Fatalf("List(clusters) = %+v, %v", clusters, err)
	}
}

func TestIdenticalPutWritesNothing(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	rec := endpointsRecord("shop", "cart", "east", 5)
	if _, err := w.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	before := mustRevision(t, w.client)
	statsBefore := w.Stats()
	written, err := w.Put(ctx, endpointsRecord("shop", "cart", "east", 5))
	if err != nil || written {
		t.Fatalf("identical Put = %v, %v; want not written", written, err)
	}
	if after := mustRevision(t, w.client); after != before {
		t.Fatalf("identical Put moved the revision from %d to %d", before, after)
	}
	if s := w.Stats(); s.BytesWritten != statsBefore.BytesWritten || s.KeysUnchanged != statsBefore.KeysUnchanged+1 {
		t.Fatalf("stats after identical Put = %+v, before %+v", s, statsBefore)
	}
	rec.Endpoints[0].Ready = false
	if written, err := w.Put(ctx, rec); err != nil || !written {
		t.Fatalf("changed Put = %v, %v; want written", written, err)
	}
	if after := mustRevision(t, w.client); after != before+1 {
		t.Fatalf("one changed Put moved the revision from %d to %d, want +1", before, after)
	}
}

func TestDeleteAbsentWritesNothing(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	rec := waypointsRecord("shop", "east")
	if _, err := w.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if deleted, err := w.Delete(ctx, rec.Key()); err != nil || !deleted {
		t.Fatalf("Delete = %v, %v; want deleted", deleted, err)
	}
	before := mustRevision(t, w.client)
	if deleted, err := w.Delete(ctx, rec.Key()); err != nil || deleted {
		t.Fatalf("second Delete = %v, %v; want nothing deleted", deleted, err)
	}
	if after := mustRevision(t, w.client); after != before {
		t.Fatalf("deleting an absent key moved the revision from %d to %d", before, after)
	}
	if _, found, err := w.client.Get(ctx, rec.Key()); found || err != nil {
		t.Fatalf("Get after Delete = found %v, %v", found, err)
	}
}

func TestWriterWithoutLeadershipRefuses(t *testing.T) {
	te := startTestEtcd(t)
	w := NewWriter(te.connect(t), WriterOptions{Identity: "idle", Logger: testLogger})
	ctx := t.Context()
	if _, err := w.Put(ctx, clusterRecord("east")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Put before Campaign = %v, want ErrNotLeader", err)
	}
	if _, err := w.Delete(ctx, ClusterKey("east")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Delete before Campaign = %v, want ErrNotLeader", err)
	}
	if _, err := w.Sync(ctx, SelectClusters(), nil); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Sync before Campaign = %v, want ErrNotLeader", err)
	}
	select {
	case <-w.Done():
	case <-time.After(time.Second):
		t.Fatal("Done is not closed before Campaign")
	}
}

func mustRevision(t *testing.T, c *Client) int64 {
	t.Helper()
	rev, err := c.Revision(t.Context())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}
