package cmdline

import (
	"slices"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	flags := []string{"kubeconfig", "context", "namespace", "all-namespaces", "output", "log-level", "log-format", "hub-context", "member-context"}
	tests := []struct {
		typed string
		in    []string
		want  []string
	}{
		{"kubconfig", flags, []string{"kubeconfig"}},
		{"kubeconfg", flags, []string{"kubeconfig"}},
		{"contxet", flags, []string{"context"}},
		{"namepsace", flags, []string{"namespace"}},
		{"log-lvel", flags, []string{"log-level"}},
		{"log", flags, []string{"log-format", "log-level"}},
		{"hub", flags, []string{"hub-context"}},
		{"xyz", flags, nil},
		{"", flags, nil},
		{"context", flags, nil},
		{"CONTEXT", flags, nil},
		{"globalservics", []string{"globalservices", "memberclusters", "segments", "gs", "mc"}, []string{"globalservices"}},
		{"staus", []string{"status", "get", "describe", "join", "unjoin"}, []string{"status"}},
		{"gt", []string{"status", "get", "describe", "join", "unjoin"}, []string{"get"}},
		{"a", []string{"b", "c", "ab"}, []string{"ab", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			got := Suggest(tt.typed, tt.in)
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("Suggest(%q) = %q, want %q", tt.typed, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"abc", "abc", 0}, {"abc", "acb", 1},
		{"kitten", "sitting", 3}, {"ca", "abc", 3}, {"kubconfig", "kubeconfig", 1},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, `; did you mean "--a"?`},
		{[]string{"a", "b"}, `; did you mean "--a" or "--b"?`},
		{[]string{"a", "b", "c"}, `; did you mean "--a", "--b" or "--c"?`},
	}
	for _, tt := range tests {
		if got := didYouMean(tt.in, "--"); got != tt.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSuggest: suggestions are candidates, distinct, never the typed name, at most three, and
// distance is a metric's symmetric, bounded cousin.
func FuzzSuggest(f *testing.F) {
	f.Add("kubconfig", "kubeconfig,context,namespace")
	f.Add("", ",,")
	f.Add("ÄÖ", "äö,ao")
	f.Fuzz(func(t *testing.T, typed, list string) {
		if len(typed) > 64 || len(list) > 512 {
			return
		}
		candidates := strings.Split(list, ",")
		got := Suggest(typed, candidates)
		if len(got) > maxSuggestions {
			t.Fatalf("%d suggestions", len(got))
		}
		seen := map[string]bool{}
		for _, s := range got {
			if !slices.Contains(candidates, s) || seen[s] || strings.EqualFold(s, typed) {
				t.Fatalf("bad suggestion %q for %q from %q: %q", s, typed, candidates, got)
			}
			seen[s] = true
		}
		for _, c := range candidates {
			d := distance(typed, c)
			if d != distance(c, typed) || d > max(len(typed), len(c)) || (d == 0) != (typed == c) {
				t.Fatalf("distance(%q, %q) = %d", typed, c, d)
			}
		}
	})
}
