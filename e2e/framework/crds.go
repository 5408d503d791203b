package framework

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	mcscrd "sigs.k8s.io/mcs-api/config/crd"
	"sigs.k8s.io/yaml"
)

// RepoCRDDir is where meshfed's generated CRDs live, relative to RepoRoot.
const RepoCRDDir = "deploy/crds"

// ErrNotCRD reports a YAML document that is not an apiextensions.k8s.io/v1
// CustomResourceDefinition.
var ErrNotCRD = errors.New("not an apiextensions.k8s.io/v1 CustomResourceDefinition")

// MCSCRDs returns the ServiceExport and ServiceImport CRDs that mcs-api
// embeds.
func MCSCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var crds []*apiextensionsv1.CustomResourceDefinition
	for name, data := range map[string][]byte{
		"serviceexports": mcscrd.ServiceExportCRD,
		"serviceimports": mcscrd.ServiceImportCRD,
	} {
		decoded, err := DecodeCRDs(data)
		if err != nil {
			return nil, fmt.Errorf("failed to decode MCS CRD %s: %w", name, err)
		}
		crds = append(crds, decoded...)
	}
	sortCRDs(crds)
	return crds, nil
}

// LoadCRDDir decodes every *.yaml, *.yml and *.json file in dir (not
// recursive). A kustomization file is skipped; any other document that is
// not a valid CRD is an error.
func LoadCRDDir(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read CRD dir %s: %w", dir, err)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, entry := range entries {
		if entry.IsDir() || !isCRDFile(entry.Name()) {
			continue
		}
		path := filepath.Join(dir, entry.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("failed to read CRD file %s: %w", path, err)
		}
		decoded, err := DecodeCRDs(data)
		if err != nil {
			return nil, fmt.Errorf("failed to decode CRD file %s: %w", path, err)
		}
		crds = append(crds, decoded...)
	}
	sortCRDs(crds)
	return crds, nil
}

// isCRDFile reports whether a file name in a CRD directory should hold CRDs.
func isCRDFile(name string) bool {
	switch strings.ToLower(name) {
	case "kustomization.yaml", "kustomization.yml", "kustomization":
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml" || ext == ".json"
}

// DecodeCRDs decodes a stream of YAML (or JSON) documents, each of which must
// be a CustomResourceDefinition of apiextensions.k8s.io/v1 with a name, a
// group, a plural and at least one version. Empty documents are skipped.
// Unknown fields are errors, so a typo in a hand-edited file is caught here
// and not by a confusing API server validation message.
func DecodeCRDs(data []byte) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var crds []*apiextensionsv1.CustomResourceDefinition
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return crds, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read YAML document %d: %w", i, err)
		}
		crd, err := decodeCRD(doc)
		if err != nil {
			return nil, fmt.Errorf("failed to decode YAML document %d: %w", i, err)
		}
		if crd != nil {
			crds = append(crds, crd)
		}
	}
}

// decodeCRD decodes one document; it returns nil, nil for an empty one.
func decodeCRD(doc []byte) (*apiextensionsv1.CustomResourceDefinition, error) {
	jsonDoc, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	if trimmed := bytes.TrimSpace(jsonDoc); len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(jsonDoc, crd); err != nil {
		return nil, err
	}
	if err := checkCRD(crd); err != nil {
		return nil, err
	}
	return crd, nil
}

// checkCRD checks the fields the framework and the API server rely on.
func checkCRD(crd *apiextensionsv1.CustomResourceDefinition) error {
	gvk := crd.GroupVersionKind()
	if gvk != apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition") {
		return fmt.Errorf("%w: apiVersion %q kind %q", ErrNotCRD, crd.APIVersion, crd.Kind)
	}
	switch {
	case crd.Name == "":
		return fmt.Errorf("%w: metadata.name is empty", ErrNotCRD)
	case crd.Spec.Group == "" || crd.Spec.Names.Plural == "":
		return fmt.Errorf("%w: spec.group or spec.names.plural of %s is empty", ErrNotCRD, crd.Name)
	case len(crd.Spec.Versions) == 0:
		return fmt.Errorf("%w: %s has no versions", ErrNotCRD, crd.Name)
	}
	return nil
}

// sortCRDs orders CRDs by name, so installation order is stable.
func sortCRDs(crds []*apiextensionsv1.CustomResourceDefinition) {
	sort.Slice(crds, func(i, j int) bool { return crds[i].Name < crds[j].Name })
}
