package framework

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const crdWidgets = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object}
`

var crdGadgets = strings.NewReplacer("widget", "gadget", "Widget", "Gadget").Replace(crdWidgets)

func TestDecodeCRDs(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		wantNames []string
		wantErr   error
		anyErr    bool
	}{
		{name: "one", data: crdWidgets, wantNames: []string{"widgets.example.com"}},
		{name: "two with separators and empty docs", data: "---\n" + crdWidgets + "---\n---\n" + crdGadgets,
			wantNames: []string{"widgets.example.com", "gadgets.example.com"}},
		{name: "json", data: `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",` +
			`"metadata":{"name":"a.b"},"spec":{"group":"b","names":{"plural":"a","kind":"A"},"scope":"Cluster",` +
			`"versions":[{"name":"v1","served":true,"storage":true}]}}`, wantNames: []string{"a.b"}},
		{name: "empty", data: "", wantNames: nil},
		{name: "comment only", data: "# nothing\n", wantNames: nil},
		{name: "not a CRD", data: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", wantErr: ErrNotCRD},
		{name: "old CRD version", data: strings.Replace(crdWidgets, "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1", 1), wantErr: ErrNotCRD},
		{name: "no versions", data: strings.SplitN(crdWidgets, "  versions:", 2)[0] + "  versions: []\n", wantErr: ErrNotCRD},
		{name: "unknown field", data: strings.Replace(crdWidgets, "scope: Namespaced", "scope: Namespaced\n  scoop: 1", 1), anyErr: true},
		{name: "invalid yaml", data: "apiVersion: [\n", anyErr: true},
		{name: "no name", data: strings.Replace(crdWidgets, "name: widgets.example.com", "labels: {}", 1), wantErr: ErrNotCRD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crds, err := DecodeCRDs([]byte(tt.data))
			if tt.wantErr != nil || tt.anyErr {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("DecodeCRDs() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCRDs() error: %v", err)
			}
			var names []string
			for _, crd := range crds {
				names = append(names, crd.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("DecodeCRDs() names = %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestLoadCRDDir(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wantNames []string
		wantErr   bool
	}{
		{name: "sorted, kustomization and other files skipped", files: map[string]string{
			"b.yaml": crdWidgets, "a.yml": crdGadgets, "kustomization.yaml": "resources: [a.yml]\n", "README.md": "hi",
		}, wantNames: []string{"gadgets.example.com", "widgets.example.com"}},
		{name: "invalid file fails", files: map[string]string{"a.yaml": crdWidgets, "bad.yaml": "kind: [\n"}, wantErr: true},
		{name: "empty dir", files: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			crds, err := LoadCRDDir(dir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("LoadCRDDir() error = %v, wantErr %v", err, tt.wantErr)
			}
			var names []string
			for _, crd := range crds {
				names = append(names, crd.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("LoadCRDDir() names = %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestLoadCRDDirMissing(t *testing.T) {
	if _, err := LoadCRDDir(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadCRDDir(missing) error = %v, want ErrNotExist", err)
	}
}

func TestMCSCRDs(t *testing.T) {
	crds, err := MCSCRDs()
	if err != nil {
		t.Fatalf("MCSCRDs() error: %v", err)
	}
	want := []string{"serviceexports.multicluster.x-k8s.io", "serviceimports.multicluster.x-k8s.io"}
	if len(crds) != len(want) {
		t.Fatalf("MCSCRDs() returned %d CRDs, want %d", len(crds), len(want))
	}
	for i, crd := range crds {
		if crd.Name != want[i] {
			t.Errorf("MCSCRDs()[%d] = %q, want %q", i, crd.Name, want[i])
		}
	}
}

func FuzzDecodeCRDs(f *testing.F) {
	f.Add([]byte(crdWidgets))
	f.Add([]byte("---\n" + crdWidgets + "---\n" + crdGadgets))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		crds, err := DecodeCRDs(data)
		if err != nil {
			return
		}
		for _, crd := range crds {
			if checkErr := checkCRD(crd); checkErr != nil {
				t.Fatalf("DecodeCRDs() returned a CRD that fails checkCRD: %v", checkErr)
			}
		}
	})
}
