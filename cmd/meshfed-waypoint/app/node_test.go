package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestFillLocalityFromNode reads a real Node: labels fill what the flags left empty, flags
// win, and a Node that cannot be read leaves the options alone with a warning.
func TestFillLocalityFromNode(t *testing.T) {
	c := framework.Start(t, 1)[0]
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{
		wellknown.RegionLabel: "us-east", wellknown.ZoneLabel: "us-east-1a", wellknown.SubzoneLabel: "rack-7",
	}}}
	if err := c.Client.Create(t.Context(), node); err != nil {
		t.Fatal(err)
	}
	path := c.KubeconfigFile(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	o := Options{Node: "node-a", Zone: "from-flag", Kubeconfig: path}
	o.fillLocality(t.Context(), log)
	if o.Region != "us-east" || o.Zone != "from-flag" || o.Subzone != "rack-7" {
		t.Errorf("locality %q/%q/%q, want us-east/from-flag/rack-7", o.Region, o.Zone, o.Subzone)
	}

	missing := Options{Node: "no-such-node", Kubeconfig: path}
	missing.fillLocality(t.Context(), log)
	if missing.Region != "" || missing.Zone != "" || !strings.Contains(logs.String(), "no-such-node") {
		t.Errorf("a missing Node: locality %q/%q, logs %s", missing.Region, missing.Zone, logs.String())
	}

	complete := Options{Node: "node-a", Region: "r", Zone: "z", Subzone: "s", Kubeconfig: "/nonexistent"}
	complete.fillLocality(t.Context(), log)
	if complete.Region != "r" || complete.Zone != "z" || complete.Subzone != "s" {
		t.Errorf("a complete locality changed: %+v", complete)
	}
}
