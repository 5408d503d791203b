package interop

import (
	"os"
	"testing"

	istiolog "istio.io/istio/pkg/log"
)

// TestMain silences Istio's package, which logs every tunnel at info level on stdout.
func TestMain(m *testing.M) {
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(istiolog.NoneLevel)
	}
	os.Exit(m.Run())
}
