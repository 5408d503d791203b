package framework

import (
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestConfigureAPIServer(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string][]string
		flag      string
		want      []string
	}{
		{name: "default APF off", flag: "enable-priority-and-fairness", want: []string{"false"}},
		{name: "override replaces", overrides: map[string][]string{"runtime-config": {"api/all=true"}},
			flag: "runtime-config", want: []string{"api/all=true"}},
		{name: "new flag added", overrides: map[string][]string{"v": {"4"}}, flag: "v", want: []string{"4"}},
		{name: "defaults kept beside overrides", overrides: map[string][]string{"v": {"4"}},
			flag: "profiling", want: []string{"false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := &envtest.APIServer{}
			configureAPIServer(server, tt.overrides)
			if got := server.Configure().Get(tt.flag).Get(nil); !slices.Equal(got, tt.want) {
				t.Errorf("flag %s = %v, want %v", tt.flag, got, tt.want)
			}
		})
	}
}
