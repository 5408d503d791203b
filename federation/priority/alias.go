package priority

import "math/bits"

// aliasSlot is one column of an alias table plus its candidate's weight, packed in 16 bytes so a
// sample and a weight lookup touch one cache line.
type aliasSlot struct {
	prob   uint64 // units of this column that pick the column's own candidate, out of total
	alias  int32  // the candidate picked by the rest of the column
	weight uint32 // the column's candidate's effective weight
}

// newAliasTable samples candidates by weight in constant time (Vose's alias method) with exact
// integer arithmetic: weights are scaled by n so that n columns of total units each hold exactly
// Σ scaled = n × total.
func newAliasTable(weights []uint32, total uint64) []aliasSlot {
	n := len(weights)
	slots := make([]aliasSlot, n)
	scaled := make([]uint64, n)
	// One work array holds both stacks: small columns grow up from 0, large down from n-1.
	work := make([]int32, n)
	small, large := 0, n
	for k, w := range weights {
		slots[k].weight = w
		scaled[k] = uint64(w) * uint64(n)
		if scaled[k] < total {
			work[small] = int32(k)
			small++
		} else {
			large--
			work[large] = int32(k)
		}
	}
	for small > 0 && large < n {
		small--
		s, l := work[small], work[large]
		slots[s].prob, slots[s].alias = scaled[s], l
		scaled[l] -= total - scaled[s]
		if scaled[l] < total {
			large++
			work[small] = l
			small++
		}
	}
	for _, k := range work[:small] {
		slots[k].prob, slots[k].alias = total, k
	}
	for _, k := range work[large:] {
		slots[k].prob, slots[k].alias = total, k
	}
	return slots
}

// aliasSample picks a column with the high half of r×n and flips the column's coin with the low
// half (the fraction of r×n/2³², uniform in [0, 1)).
func aliasSample(slots []aliasSlot, r uint32, total uint64) int {
	prod := uint64(r) * uint64(len(slots))
	col := prod >> 32
	coin, _ := bits.Mul64(prod<<32, total)
	if coin < slots[col].prob {
		return int(col)
	}
	return int(slots[col].alias)
}
