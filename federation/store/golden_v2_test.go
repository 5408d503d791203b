package store

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// goldenV2 are the schema version 2 values: an endpoints record of three endpoints stored in
// parts, its head and its two chunks. Like every golden file they are never regenerated.
func goldenV2() (head golden, chunks []golden) {
	want := &model.PublishedEndpoints{
		Namespace: "shop", Domain: "mesh.internal", Name: "cart", Cluster: "east-1", Scope: model.ScopeGlobal, Stale: true,
		Endpoints: []model.Endpoint{
			{Address: "10.1.0.7", Ports: []model.EndpointPort{{Name: "http", Port: 8080}}, Locality: model.Locality{Network: "net-a", Region: "eu-west-1", Zone: "eu-west-1a", Node: "ip-10-1-0-3.eu-west-1.compute.internal", Cluster: "east-1"}, Ready: true, Serving: true},
			{Address: "10.1.0.8", Ports: []model.EndpointPort{{Name: "http", Port: 8080}}, Locality: model.Locality{Network: "net-a", Region: "eu-west-1", Zone: "eu-west-1b", Node: "ip-10-1-0-4.eu-west-1.compute.internal", Cluster: "east-1"}, Serving: true, Terminating: true},
			{Address: "10.1.0.9", Ports: []model.EndpointPort{{Name: "http", Port: 8080}}, Locality: model.Locality{Network: "net-a", Region: "eu-west-1", Zone: "eu-west-1c", Node: "ip-10-1-0-5.eu-west-1.compute.internal", Cluster: "east-1"}, Ready: true, Serving: true, Weight: 2},
		},
	}
	return golden{"endpoints-head.json", EndpointsKey("shop", "mesh.internal", "cart", "east-1"), want}, []golden{
		{file: "endpoints-chunk-1.json", key: EndpointsChunkKey("shop", "mesh.internal", "cart", "east-1", "d00a3b71ed6895a3")},
		{file: "endpoints-chunk-2.json", key: EndpointsChunkKey("shop", "mesh.internal", "cart", "east-1", "c419eac8f50d98b6")},
	}
}

// TestGoldenV2 pins the split form: the head and each chunk decode and re-encode byte for
// byte, a listing joins them into the record they stand for, and a watcher delivers it whole.
func TestGoldenV2(t *testing.T) {
	head, chunks := goldenV2()
	var entries []Entry
	for _, g := range append([]golden{head}, chunks...) {
		stored := readGolden(t, "v2", g.file)
		rec, err := Decode(g.key.String(), stored)
		if err != nil {
			t.Fatalf("%s: Decode: %v", g.file, err)
		}
		_, again, err := Encode(rec)
		if err != nil || !bytes.Equal(again, stored) {
			t.Fatalf("%s: re-encoded value differs (%v):\n got %s\nwant %s", g.file, err, again, stored)
		}
		entries = append(entries, Entry{Key: g.key, Record: rec})
	}
	joined, errs := joinEntries(entries)
	if len(errs) != 0 || len(joined) != 1 {
		t.Fatalf("joined %d entries, errors %v; want the one record", len(joined), errs)
	}
	if got := modelOf(joined[0].Record); !reflect.DeepEqual(got, head.want) {
		t.Fatalf("joined record reads as\n %+v\nwant\n %+v", got, head.want)
	}
	set := map[string]bool{}
	for _, e := range entries {
		markSet(set, reflect.ValueOf(e.Record).Elem(), reflect.TypeOf(e.Record).Elem().Name())
	}
	for _, e := range entries[:2] {
		for _, path := range fieldPaths(reflect.TypeOf(e.Record).Elem(), reflect.TypeOf(e.Record).Elem().Name()) {
			if !set[path] && strings.Count(path, ".") == 1 { // StoredEndpoint's fields are TestGoldenV1's
				t.Errorf("no golden value sets %s", path)
			}
		}
	}
}

// TestDecodeRejectsChunkOfAnotherHash: a chunk whose value is not what its key's ID hashes is
// refused, whatever it holds.
func TestDecodeRejectsChunkOfAnotherHash(t *testing.T) {
	_, chunks := goldenV2()
	stored := readGolden(t, "v2", chunks[0].file)
	other := chunks[1].key.String()
	if _, err := Decode(other, stored); err == nil {
		t.Fatal("a chunk stored under another chunk's key decoded")
	}
	tampered := bytes.Replace(stored, []byte(`"ready":true`), []byte(`"ready":false`), 1)
	if _, err := Decode(chunks[0].key.String(), tampered); err == nil {
		t.Fatal("a tampered chunk decoded")
	}
}
