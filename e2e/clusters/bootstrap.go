package clusters

import (
	"bytes"
	_ "embed"
	"fmt"
	"text/template"
)

var (
	//go:embed manifests/bootstrap.yaml
	bootstrapYAML string
	//go:embed manifests/containerd.toml
	containerdTOML string

	bootstrapTemplate  = template.Must(template.New("bootstrap").Parse(bootstrapYAML))
	containerdTemplate = template.Must(template.New("containerd").Parse(containerdTOML))
)

// volumes are the local PersistentVolumes of every node; the entrypoint makes their directories.
var volumes = []string{"pv-1", "pv-2", "pv-3", "pv-4"}

// bootstrapManifests renders what a cluster gets once its API server is up.
func bootstrapManifests(c *Cluster, a *Artifacts) ([]byte, error) {
	return render(bootstrapTemplate, struct {
		DNSIP, CoreDNSImage, NodeName string
		Volumes                       []string
	}{c.DNSIP.String(), a.CoreDNSImage, c.NodeName, volumes})
}

func render(t *template.Template, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", t.Name(), err)
	}
	return buf.Bytes(), nil
}
