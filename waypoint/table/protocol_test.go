package table

import (
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

func TestProtocolOf(t *testing.T) {
	tests := []struct {
		name, appProtocol string
		want              Protocol
	}{
		{"web", "http", ProtocolHTTP},
		{"web", "HTTP", ProtocolHTTP},
		{"web", "h2c", ProtocolH2C},
		{"web", "kubernetes.io/h2c", ProtocolH2C},
		{"web", "grpc", ProtocolH2C},
		{"web", "http2", ProtocolH2C},
		{"http", "kubernetes.io/ws", ProtocolTCP}, // an appProtocol wins over the name
		{"http", "tcp", ProtocolTCP},
		{"http", "", ProtocolHTTP},
		{"http-api", "", ProtocolHTTP},
		{"http2", "", ProtocolH2C},
		{"http2-api", "", ProtocolH2C},
		{"grpc", "", ProtocolH2C},
		{"grpc-web", "", ProtocolH2C},
		{"GRPC", "", ProtocolH2C},
		{"httpx", "", ProtocolTCP},
		{"tcp", "", ProtocolTCP},
		{"", "", ProtocolTCP},
		{"https", "", ProtocolTCP},
	}
	for _, tt := range tests {
		got := ProtocolOf(model.Port{Name: tt.name, Port: 80, Protocol: "TCP", AppProtocol: tt.appProtocol})
		if got != tt.want {
			t.Errorf("ProtocolOf(name %q, appProtocol %q) = %s, want %s", tt.name, tt.appProtocol, got, tt.want)
		}
	}
}
