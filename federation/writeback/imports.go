package writeback

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"
)

// importAPI reads and writes one member's ServiceImports in the version it serves: v1beta1
// where served (what mcs-api's CRDs store), else v1alpha1. The writer works with v1beta1
// objects only; the two versions have the same schema, so an object converts field for field.
type importAPI struct {
	c      client.Client
	reader client.Reader
	legacy bool // the member serves v1alpha1 only
}

// list returns every ServiceImport of the member by namespace and name.
func (a importAPI) list(ctx context.Context) (map[types.NamespacedName]*mcsv1beta1.ServiceImport, error) {
	var items []mcsv1beta1.ServiceImport
	if a.legacy {
		var list mcsv1alpha1.ServiceImportList
		if err := a.reader.List(ctx, &list); err != nil {
			return nil, err
		}
		for i := range list.Items {
			si, err := convertImport[mcsv1beta1.ServiceImport](&list.Items[i])
			if err != nil {
				return nil, err
			}
			items = append(items, *si)
		}
	} else {
		var list mcsv1beta1.ServiceImportList
		if err := a.reader.List(ctx, &list); err != nil {
			return nil, err
		}
		items = list.Items
	}
	out := make(map[types.NamespacedName]*mcsv1beta1.ServiceImport, len(items))
	for i := range items {
		out[client.ObjectKeyFromObject(&items[i])] = &items[i]
	}
	return out, nil
}

// write creates (create true) or updates si; on success si holds what the API server returned.
func (a importAPI) write(ctx context.Context, si *mcsv1beta1.ServiceImport, create bool) error {
	obj, back, err := a.object(si)
	if err != nil {
		return err
	}
	if create {
		err = a.c.Create(ctx, obj)
	} else {
		err = a.c.Update(ctx, obj)
	}
	if err != nil {
		return err
	}
	return back()
}

// writeStatus writes si's status.
func (a importAPI) writeStatus(ctx context.Context, si *mcsv1beta1.ServiceImport) error {
	obj, back, err := a.object(si)
	if err != nil {
		return err
	}
	if err := a.c.Status().Update(ctx, obj); err != nil {
		return err
	}
	return back()
}

// remove deletes si, guarded by its UID.
func (a importAPI) remove(ctx context.Context, si *mcsv1beta1.ServiceImport) error {
	obj, _, err := a.object(si)
	if err != nil {
		return err
	}
	uid := si.UID
	return a.c.Delete(ctx, obj, client.Preconditions{UID: &uid})
}

// object is si in the member's version, and a function that copies what the API server
// returned into it back into si.
func (a importAPI) object(si *mcsv1beta1.ServiceImport) (client.Object, func() error, error) {
	if !a.legacy {
		return si, func() error { return nil }, nil
	}
	old, err := convertImport[mcsv1alpha1.ServiceImport](si)
	if err != nil {
		return nil, nil, err
	}
	return old, func() error {
		back, err := convertImport[mcsv1beta1.ServiceImport](old)
		if err != nil {
			return err
		}
		*si = *back
		return nil
	}, nil
}

// convertImport converts a ServiceImport between the two MCS versions, which share a schema.
// The type meta is dropped: the client sets the version of the Go type it is given.
func convertImport[T mcsv1alpha1.ServiceImport | mcsv1beta1.ServiceImport, PT interface {
	*T
	client.Object
}](from any) (*T, error) {
	raw, err := json.Marshal(from)
	if err != nil {
		return nil, fmt.Errorf("failed to convert serviceimport: %w", err)
	}
	var to T
	if err := json.Unmarshal(raw, &to); err != nil {
		return nil, fmt.Errorf("failed to convert serviceimport: %w", err)
	}
	PT(&to).GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return &to, nil
}
