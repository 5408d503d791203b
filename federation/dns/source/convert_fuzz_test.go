package source

import (
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

// FuzzService: whatever a ServiceImport holds (it is written by whoever may write ServiceImports),
// converting it and building a table never panic, a name of another namespace is never served,
// and the service's names get well-formed answers.
func FuzzService(f *testing.F) {
	f.Add("shop", "web", "10.96.0.10", "web.shop.mesh.internal", "true", "http", "TCP", int32(80))
	f.Add("shop", "web", "2001:db8::1", "web.other.mesh.internal", "yes", "", "UDP", int32(0))
	f.Add("a", "b", "::ffff:10.0.0.1", "b.a.svc.cluster.local", "TRUE", "x_y", "sctp", int32(70000))
	f.Fuzz(func(t *testing.T, ns, name, ip, hostname, takeover, portName, proto string, port int32) {
		si := &mcsv1alpha1.ServiceImport{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
				wellknown.HostnameAnnotation: hostname, wellknown.TakeoverAnnotation: takeover,
			}},
			Spec: mcsv1alpha1.ServiceImportSpec{
				Type: mcsv1alpha1.ClusterSetIP, IPs: []string{ip},
				Ports: []mcsv1alpha1.ServicePort{{Name: portName, Protocol: corev1.Protocol(proto), Port: port}},
			},
		}
		s, _ := Service(si)
		other := zone.Service{Namespace: "victim", Name: "db", IPs: s.IPs}
		tbl, err := zone.Build([]zone.Service{s, other}, zone.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{hostname, "db.victim.mesh.internal.", name + "." + ns + ".svc.clusterset.local.", "_" + portName + "._tcp." + hostname} {
			req := new(dns.Msg)
			req.SetQuestion(dns.Fqdn(q), dns.TypeANY)
			b, err := req.Pack()
			if err != nil || req.Unpack(b) != nil {
				continue
			}
			resp := tbl.Answer(req, true)
			if _, err := resp.Pack(); err != nil {
				t.Fatalf("answer to %q does not pack: %v", q, err)
			}
			if q == "db.victim.mesh.internal." && ns != "victim" && resp.Rcode == dns.RcodeSuccess && len(resp.Answer) > 0 {
				t.Fatalf("import %s/%s with hostname %q serves another namespace's name %s", ns, name, hostname, q)
			}
		}
	})
}
