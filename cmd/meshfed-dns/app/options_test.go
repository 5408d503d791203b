package app

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Options)
		err    string
	}{
		{name: "defaults", change: func(*Options) {}},
		{name: "ttl 30s", change: func(o *Options) { o.TTL = 30 * time.Second }},
		{name: "ttl below a second", change: func(o *Options) { o.TTL = 500 * time.Millisecond }, err: "--ttl"},
		{name: "ttl not whole seconds", change: func(o *Options) { o.TTL = 1500 * time.Millisecond }, err: "--ttl"},
		{name: "ttl above an hour", change: func(o *Options) { o.TTL = 2 * time.Hour }, err: "--ttl"},
		{name: "no listen address", change: func(o *Options) { o.ListenAddress = "" }, err: "--listen-address"},
		{name: "no TCP connections", change: func(o *Options) { o.MaxTCPConnections = 0 }, err: "--max-tcp-connections"},
		{name: "negative shutdown delay", change: func(o *Options) { o.ShutdownDelay = -time.Second }, err: "--shutdown-delay"},
		{name: "no release grace", change: func(o *Options) { o.ReleaseGrace = 0 }},
		{name: "negative release grace", change: func(o *Options) { o.ReleaseGrace = -time.Second }, err: "--takeover-release-grace"},
		{name: "release grace above 30m", change: func(o *Options) { o.ReleaseGrace = time.Hour }, err: "--takeover-release-grace"},
		{name: "invalid zone", change: func(o *Options) { o.Zones = []string{"bad_zone"} }, err: "invalid zone"},
		{name: "zone inside the cluster domain", change: func(o *Options) { o.Zones = []string{"svc.cluster.local"} }, err: "inside the cluster domain"},
		{name: "invalid cluster domain", change: func(o *Options) { o.ClusterDomain = "-x" }, err: "invalid cluster domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.change(&o)
			err := o.Validate()
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}
