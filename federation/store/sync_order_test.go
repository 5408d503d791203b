package store

import (
	"testing"
)

// TestPlanPutsRecordsBeforeNewChunks: in one plan, a record stored whole, and a head whose
// chunks are all stored already, are written before the new chunks of another record, whose
// head follows its chunks; chunk deletes come last. So a small service's change is not queued
// behind the transactions of a large record's first write.
func TestPlanPutsRecordsBeforeNewChunks(t *testing.T) {
	big := largeEndpointsRecord("shop", "big", "east-1", 3000)
	kept := largeEndpointsRecord("shop", "kept", "east-1", 3000)
	small := endpointsRecord("shop", "a-small", "east-1", 2)
	sel := SelectClusterEndpoints("east-1")
	want, failed, err := encodeSelected(sel, []Record{big, kept, small}, storedForm)
	if err != nil || len(failed) != 0 {
		t.Fatalf("encode: %v %v", err, failed)
	}
	// The store holds kept's chunks (with an older head) and a chunk no head will name.
	var kvs []stored
	for _, v := range want {
		if v.owner == kept.Key().String() {
			val := v.val
			if !v.part {
				val = []byte("older head")
			}
			kvs = append(kvs, stored{key: v.key, modRev: 5, value: val})
		}
	}
	gone := EndpointsChunkKey("shop", big.Domain, "big", "east-1", "0123456789abcdef").String()
	kvs = append(kvs, stored{key: gone, modRev: 3, value: []byte("{}")})
	changes, _ := plan(sel, kvs, want, failures{})

	phase := func(c *change) string {
		switch {
		case c.part && c.val == nil:
			return "chunk delete"
		case c.part:
			return "chunk put"
		case c.owner == big.Key().String():
			return "head of new chunks"
		}
		return "record"
	}
	order := []string{"record", "chunk put", "head of new chunks", "chunk delete"}
	at := 0
	counts := map[string]int{}
	for i := range changes {
		p := phase(&changes[i])
		counts[p]++
		for at < len(order) && order[at] != p {
			at++
		}
		if at == len(order) {
			t.Fatalf("change %d (%s, %s) out of order", i, changes[i].key, p)
		}
	}
	if counts["record"] != 2 || counts["head of new chunks"] != 1 || counts["chunk delete"] != 1 || counts["chunk put"] < 2 {
		t.Fatalf("changes by phase %v: want the small record and kept's head, big's chunks and head, one chunk delete", counts)
	}
}
