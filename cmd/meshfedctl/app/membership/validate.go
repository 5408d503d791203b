package membership

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks the names a join writes, before anything is written: the cluster name,
// network and segment must be DNS-1123 labels (the MemberCluster's own rules), the region at
// most 63 characters. Each problem is one line naming the flag or argument.
func (o *Options) Validate() error {
	var errs []error
	label := func(what, v string, required bool) {
		switch {
		case v == "" && required:
			errs = append(errs, fmt.Errorf("missing %s", what))
		case v != "" && len(validation.IsDNS1123Label(v)) > 0:
			errs = append(errs, fmt.Errorf("invalid %s %q: want a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit", what, v))
		}
	}
	label("cluster name", o.Name, true)
	label("--network", o.Network, false)
	label("--segment", o.Segment, false)
	if len(o.Region) > validation.DNS1123LabelMaxLength {
		errs = append(errs, fmt.Errorf("invalid --region %q: at most %d characters", o.Region, validation.DNS1123LabelMaxLength))
	}
	return errors.Join(errs...)
}
