package source

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

// Service converts a ServiceImport into the service the DNS table serves. Parts it cannot use
// (an IP that does not parse, a port out of range, a takeover value other than true or false)
// are left out and described in the error; the service it returns is still served without them.
// A Headless import gets no IPs: it is marked Headless, and its names are made from the
// endpoints of its MCS EndpointSlices (HeadlessEndpoints), which the import does not carry.
func Service(si *mcsv1alpha1.ServiceImport) (zone.Service, error) {
	s := zone.Service{Namespace: si.Namespace, Name: si.Name, Hostname: si.Annotations[wellknown.HostnameAnnotation], Headless: si.Spec.Type == mcsv1alpha1.Headless}
	var errs []error
	if si.Spec.Type != mcsv1alpha1.Headless {
		for _, ip := range si.Spec.IPs {
			a, err := netip.ParseAddr(ip)
			if err != nil || a.Zone() != "" {
				errs = append(errs, fmt.Errorf("invalid IP %q", ip))
				continue
			}
			s.IPs = append(s.IPs, a)
		}
	}
	for _, p := range si.Spec.Ports {
		if p.Port < 1 || p.Port > 65535 {
			errs = append(errs, fmt.Errorf("port %q: number %d out of range", p.Name, p.Port))
			continue
		}
		s.Ports = append(s.Ports, zone.Port{Name: p.Name, Protocol: string(p.Protocol), Number: uint16(p.Port)})
	}
	switch v := si.Annotations[wellknown.TakeoverAnnotation]; strings.ToLower(v) {
	case "true":
		s.Takeover = true
	case "false", "":
	default:
		errs = append(errs, fmt.Errorf("%s: %q is neither true nor false; takeover off", wellknown.TakeoverAnnotation, v))
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("failed to read ServiceImport %s/%s whole: %w", si.Namespace, si.Name, err)
	}
	return s, nil
}
