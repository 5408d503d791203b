package cmdline

import (
	"cmp"
	"slices"
	"strings"
)

// maxSuggestions bounds how many names a "did you mean" offers.
const maxSuggestions = 3

// Suggest returns the candidates closest to typed, best first: those within an edit distance
// of a third of the longer name (at least 1, at most 3, case ignored), and those typed is a
// prefix of. It returns at most three names and never typed itself.
func Suggest(typed string, candidates []string) []string {
	type scored struct {
		name string
		dist int
	}
	lower := strings.ToLower(typed)
	var found []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if c == "" || lc == lower {
			continue
		}
		d := distance(lower, lc)
		limit := min(3, max(1, max(len(lc), len(lower))/3))
		switch {
		case d <= limit:
		case lower != "" && strings.HasPrefix(lc, lower):
			d = limit + 1
		default:
			continue
		}
		found = append(found, scored{c, d})
	}
	slices.SortFunc(found, func(a, b scored) int { return cmp.Or(cmp.Compare(a.dist, b.dist), strings.Compare(a.name, b.name)) })
	found = slices.CompactFunc(found, func(a, b scored) bool { return a.name == b.name })
	names := make([]string, 0, min(len(found), maxSuggestions))
	for _, s := range found[:min(len(found), maxSuggestions)] {
		names = append(names, s.name)
	}
	return names
}

// distance is the optimal string alignment distance of a and b (Levenshtein plus adjacent
// transpositions, each edit costing 1), over bytes.
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// didYouMean renders suggestions as a sentence: ` (did you mean "a" or "b"?)`, or "".
func didYouMean(suggestions []string, prefix string) string {
	if len(suggestions) == 0 {
		return ""
	}
	quoted := make([]string, len(suggestions))
	for i, s := range suggestions {
		quoted[i] = `"` + prefix + s + `"`
	}
	if len(quoted) == 1 {
		return "; did you mean " + quoted[0] + "?"
	}
	return "; did you mean " + strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1] + "?"
}
