package source

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/federation/dns/zone"
)

func TestReleases(t *testing.T) {
	web, api := types.NamespacedName{Namespace: "shop", Name: "web"}, types.NamespacedName{Namespace: "shop", Name: "api"}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const grace = time.Minute
	r := newReleases(grace)
	set := func(keys ...types.NamespacedName) map[types.NamespacedName]bool {
		m := map[types.NamespacedName]bool{}
		for _, k := range keys {
			m[k] = true
		}
		return m
	}
	steps := []struct {
		name      string
		at        time.Duration
		takenOver map[types.NamespacedName]bool
		fresh     []types.NamespacedName
		pending   int
		next      time.Duration // -1: none
	}{
		{name: "first table: nothing released", at: 0, takenOver: set(web, api), pending: 0, next: -1},
		{name: "web's takeover ends", at: 10 * time.Second, takenOver: set(api), fresh: []types.NamespacedName{web}, pending: 1, next: 10*time.Second + grace},
		{name: "an unrelated change keeps the release", at: 20 * time.Second, takenOver: set(api), pending: 1, next: 10*time.Second + grace},
		{name: "api's ends too", at: 30 * time.Second, takenOver: set(), fresh: []types.NamespacedName{api}, pending: 2, next: 10*time.Second + grace},
		{name: "web's release is over", at: 10*time.Second + grace, takenOver: set(), pending: 1, next: 30*time.Second + grace},
		{name: "api taken over again ends its release", at: 40 * time.Second, takenOver: set(api), pending: 0, next: -1},
		{name: "and released anew", at: 50 * time.Second, takenOver: set(), fresh: []types.NamespacedName{api}, pending: 1, next: 50*time.Second + grace},
	}
	for _, s := range steps {
		fresh := r.update(t0.Add(s.at), s.takenOver)
		if !reflect.DeepEqual(fresh, s.fresh) {
			t.Errorf("%s: released %v, want %v", s.name, fresh, s.fresh)
		}
		for _, k := range fresh {
			r.local[k] = &zone.Service{Namespace: k.Namespace, Name: k.Name, Released: true}
		}
		if len(r.until) != s.pending || len(r.services()) != s.pending {
			t.Errorf("%s: %d releases pending (%d served), want %d", s.name, len(r.until), len(r.services()), s.pending)
		}
		want := time.Time{}
		if s.next >= 0 {
			want = t0.Add(s.next)
		}
		if got := r.next(); !got.Equal(want) {
			t.Errorf("%s: next release ends %v, want %v", s.name, got, want)
		}
	}

	off := newReleases(-1)
	off.update(t0, set(web))
	if fresh := off.update(t0.Add(time.Second), set()); len(fresh) != 0 || !off.next().IsZero() {
		t.Errorf("with releases off: released %v, next %v", fresh, off.next())
	}
}

func TestLocalService(t *testing.T) {
	key := types.NamespacedName{Namespace: "shop", Name: "web"}
	ports := []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}, {Name: "bad", Port: 70000}}
	released := func(ips []string, ports ...zone.Port) zone.Service {
		s := zone.Service{Namespace: "shop", Name: "web", Released: true, Ports: ports}
		for _, ip := range ips {
			s.IPs = append(s.IPs, netip.MustParseAddr(ip))
		}
		return s
	}
	http := zone.Port{Name: "http", Protocol: "TCP", Number: 80}
	tests := []struct {
		name string
		svc  *corev1.Service
		want zone.Service
	}{
		{name: "none", svc: nil, want: released(nil)},
		{name: "dual stack", svc: &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1", "fd00::1"}, Ports: ports}}, want: released([]string{"10.0.0.1", "fd00::1"}, http)},
		{name: "clusterIP only", svc: &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1", Ports: ports}}, want: released([]string{"10.0.0.1"}, http)},
		{name: "headless", svc: &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "None", ClusterIPs: []string{"None"}, Ports: ports}}, want: released(nil)},
		{name: "external name", svc: &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example", Ports: ports}}, want: released(nil)},
		{name: "invalid address", svc: &corev1.Service{Spec: corev1.ServiceSpec{ClusterIPs: []string{"fe80::1%eth0", "10.0.0.300"}}}, want: released(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LocalService(key, tt.svc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LocalService = %+v, want %+v", got, tt.want)
			}
		})
	}
}
