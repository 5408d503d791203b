package deploy_test

import (
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/meshfed/meshfed/e2e/framework"
)

// bases are the kustomizations a user applies; TestBasesApply finds every kustomization under
// deploy/ and fails if one of these is missing, so that a base cannot silently stop being tested.
var bases = []string{"crds", "dns", "hub", "hub-embedded", "mcs", "waypoint"}

// TestBasesApply renders every kustomization under deploy/ and server-side applies each object
// to a real API server in dry-run mode: schema, defaulting, validation and admission run, nothing
// is stored. CRDs go first, then Namespaces. A dry run cannot create a namespace that later
// objects need, so each Namespace is created for real after its dry run passes, as is a target
// namespace a base does not bring itself (the waypoint's).
func TestBasesApply(t *testing.T) {
	dirs := kustomizations(t)
	for _, want := range bases {
		if !slices.Contains(dirs, want) {
			t.Errorf("no kustomization in deploy/%s", want)
		}
	}
	// Without the repository's CRDs, so that applying deploy/crds is a real create; with every
	// API group served, as in a real cluster (the framework turns off policy/v1 and others).
	c := framework.Start(t, 1, framework.WithoutRepoCRDs(), framework.WithAPIServerFlag("runtime-config", "api/all=true"))[0]
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			objs := render(t, dir)
			if len(objs) == 0 {
				t.Fatal("renders no objects")
			}
			for _, obj := range objs {
				if ns := obj.GetNamespace(); ns != "" {
					ensureNamespace(t, c, ns)
				}
				apply := client.ApplyConfigurationFromUnstructured(obj)
				if err := c.Client.Apply(t.Context(), apply, client.FieldOwner("meshfed-deploy-test"), client.ForceOwnership, client.DryRunAll); err != nil {
					t.Errorf("%s %s/%s: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
					continue
				}
				if obj.GetKind() == "Namespace" {
					ensureNamespace(t, c, obj.GetName())
				}
			}
		})
	}
}

// kustomizations lists the directories under deploy/ holding a kustomization.yaml, sorted.
func kustomizations(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.ToSlash(filepath.Dir(path)))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	return dirs
}

// render builds a kustomization as `kubectl apply -k` does, and orders the objects CRDs first,
// then Namespaces, then the rest in their rendered order.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build deploy/%s: %v", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range resMap.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatalf("deploy/%s: %v", dir, err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	rank := func(u *unstructured.Unstructured) int {
		switch u.GetKind() {
		case "CustomResourceDefinition":
			return 0
		case "Namespace":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	return objs
}

func ensureNamespace(t *testing.T, c *framework.Cluster, name string) {
	t.Helper()
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	if err := c.Client.Create(t.Context(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("failed to create namespace %s: %v", name, err)
	}
}
