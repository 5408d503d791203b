package membership

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	ok := Options{Name: "east-1", Network: "net-a", Segment: "default", Region: "eu-west-1"}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"valid", func(*Options) {}, ""},
		{"bad name", func(o *Options) { o.Name = "Bad_Name" }, `invalid cluster name "Bad_Name": want a DNS-1123 label`},
		{"empty name", func(o *Options) { o.Name = "" }, "missing cluster name"},
		{"long name", func(o *Options) { o.Name = strings.Repeat("a", 64) }, "invalid cluster name"},
		{"bad network", func(o *Options) { o.Network = "net.a" }, `invalid --network "net.a"`},
		{"bad segment", func(o *Options) { o.Segment = "-west" }, `invalid --segment "-west"`},
		{"long region", func(o *Options) { o.Region = strings.Repeat("r", 64) }, "invalid --region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			err := o.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("one problem takes more than one line: %q", err)
			}
		})
	}
}

// FuzzOptionsValidate: whatever a user types, Validate answers without panicking, and a name
// it accepts is one the API server's MemberCluster rule accepts.
func FuzzOptionsValidate(f *testing.F) {
	f.Add("east-1", "net-a")
	f.Add("Bad_Name", "")
	f.Add("", "x.y")
	f.Fuzz(func(t *testing.T, name, network string) {
		o := Options{Name: name, Network: network}
		if o.Validate() != nil {
			return
		}
		if len(name) == 0 || len(name) > 63 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" ||
			strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
			t.Fatalf("accepted cluster name %q", name)
		}
	})
}
