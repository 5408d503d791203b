package clusters

import (
	"strings"
	"testing"
)

const goodBuildOutput = `K8S_BIN_DIR=/cache/k8s
NODE_IMAGE=meshfed-node:abc
PAUSE_IMAGE=meshfed-pause:1
COREDNS_IMAGE=meshfed-coredns:2
ECHO_IMAGE=meshfed-echo:3
`

func TestParseArtifacts(t *testing.T) {
	a, err := parseArtifacts([]byte(goodBuildOutput))
	if err != nil {
		t.Fatal(err)
	}
	if a.K8sBinDir != "/cache/k8s" || a.NodeImage != "meshfed-node:abc" || a.PauseImage != "meshfed-pause:1" ||
		a.CoreDNSImage != "meshfed-coredns:2" || a.EchoImage != "meshfed-echo:3" || a.Kubectl() != "/cache/k8s/kubectl" {
		t.Errorf("parsed %+v", a)
	}
}

func TestParseArtifactsRejects(t *testing.T) {
	for name, out := range map[string]string{
		"missing key":   strings.Replace(goodBuildOutput, "ECHO_IMAGE=meshfed-echo:3\n", "", 1),
		"unknown key":   goodBuildOutput + "OTHER=x\n",
		"duplicate key": goodBuildOutput + "NODE_IMAGE=y\n",
		"empty value":   strings.Replace(goodBuildOutput, "=meshfed-pause:1", "=", 1),
		"not key=value": goodBuildOutput + "building things\n",
		"empty":         "",
	} {
		if _, err := parseArtifacts([]byte(out)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

// FuzzParseArtifacts: any output parses into every field set, or fails; it never panics.
func FuzzParseArtifacts(f *testing.F) {
	f.Add([]byte(goodBuildOutput))
	f.Add([]byte("K8S_BIN_DIR==\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		a, err := parseArtifacts(out)
		if err != nil {
			return
		}
		for _, v := range []string{a.K8sBinDir, a.NodeImage, a.PauseImage, a.CoreDNSImage, a.EchoImage} {
			if v == "" {
				t.Fatalf("parsed %q with an empty field: %+v", out, a)
			}
		}
	})
}
