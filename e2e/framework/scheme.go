package framework

import (
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"
)

// SchemeFunc adds types to a scheme; every generated AddToScheme has this type.
type SchemeFunc func(*runtime.Scheme) error

// baseSchemeFuncs register every built-in Kubernetes group (core,
// discovery/v1, coordination, rbac, …), apiextensions/v1 and both MCS
// versions (v1alpha1 is what meshfed uses; v1beta1 is the CRDs' storage
// version).
var baseSchemeFuncs = []SchemeFunc{
	clientgoscheme.AddToScheme,
	apiextensionsv1.AddToScheme,
	mcsv1alpha1.Install,
	mcsv1beta1.Install,
}

// NewScheme returns a scheme with the built-in Kubernetes types,
// apiextensions/v1 and mcs-api v1alpha1 and v1beta1, plus whatever extra
// adds.
func NewScheme(extra ...SchemeFunc) (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for i, add := range append(append([]SchemeFunc{}, baseSchemeFuncs...), extra...) {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("failed to add types to scheme (func %d): %w", i, err)
		}
	}
	return scheme, nil
}
