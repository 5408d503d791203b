package framework

import (
	"errors"
	"testing"
)

func TestKilledAfterTimeout(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errors.New("timeout waiting for process kube-apiserver to stop"), true},
		{errors.Join(errors.New("timeout waiting for process kube-apiserver to stop"), errors.New("timeout waiting for process etcd to stop")), true},
		{errors.Join(errors.New("timeout waiting for process kube-apiserver to stop"), errors.New("unable to kill process etcd")), false},
		{errors.New("unable to signal for process kube-apiserver to stop"), false},
	}
	for _, tt := range tests {
		if got := killedAfterTimeout(tt.err); got != tt.want {
			t.Errorf("killedAfterTimeout(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
