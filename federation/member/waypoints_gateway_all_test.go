package member

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// allNamespaces are a member's namespaces for the "*" tests: two that run gateways (gw-a
// labelled with network dmz), workload namespaces, Kubernetes' own, one being deleted and
// "own", which runs its own waypoint in the tests that give it one.
func allNamespaces() map[string]*corev1.Namespace {
	out := map[string]*corev1.Namespace{}
	for _, ns := range []string{"gw-a", "gw-b", "bank", "shop", "own", "kube-system", "kube-public", "kube-node-lease", "gone"} {
		out[ns] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	}
	out["gw-a"].Labels = map[string]string{wellknown.NetworkLabel: "dmz"}
	out["gone"].DeletionTimestamp = &metav1.Time{}
	return out
}

func TestGatewayWaypointsAll(t *testing.T) {
	ownWaypoint := waypointService("own", map[string]string{wellknown.HBONEAddressKey: "203.0.113.9:15008"}, nil)
	own := Waypoint{Namespace: "own", Network: "n1", Addresses: []string{"203.0.113.9:15008"}}
	// served is the waypoint of ns served by the gateway of gwns at address.
	served := func(ns, gwns, network, address string) Waypoint {
		return Waypoint{Namespace: ns, Network: network, Addresses: []string{address}, Gateway: gwns}
	}
	type problem struct{ gateway, text string }
	tests := []struct {
		name       string
		namespaces map[string]*corev1.Namespace
		services   []corev1.Service
		want       []Waypoint
		problems   []problem
	}{{
		name:     "every namespace but its own, a gateway's, the system's, one being deleted and one with its own waypoint",
		services: []corev1.Service{gatewayService("gw-a", "*", "203.0.113.1:15008"), ownWaypoint, gatewayService("gw-b", "", "203.0.113.2:15008")},
		want: []Waypoint{
			served("bank", "gw-a", "dmz", "203.0.113.1:15008"), own, served("shop", "gw-a", "dmz", "203.0.113.1:15008"),
		},
		problems: []problem{{"gw-b", "lists no namespace"}},
	}, {
		name:     "blanks around it, and a namespace that is no gateway's",
		services: []corev1.Service{gatewayService("gw-b", " * ", "203.0.113.2:15008")},
		want: []Waypoint{
			served("bank", "gw-b", "n1", "203.0.113.2:15008"), served("gw-a", "gw-b", "n1", "203.0.113.2:15008"),
			served("own", "gw-b", "n1", "203.0.113.2:15008"), served("shop", "gw-b", "n1", "203.0.113.2:15008"),
		},
	}, {
		name:     "a list wins over an earlier-sorting *",
		services: []corev1.Service{gatewayService("gw-a", "*", "203.0.113.1:15008"), gatewayService("gw-b", "shop", "203.0.113.2:15008")},
		want: []Waypoint{
			served("bank", "gw-a", "dmz", "203.0.113.1:15008"), served("own", "gw-a", "dmz", "203.0.113.1:15008"),
			served("shop", "gw-b", "n1", "203.0.113.2:15008"),
		},
	}, {
		name:     "a list wins over a later-sorting *",
		services: []corev1.Service{gatewayService("gw-b", "*", "203.0.113.2:15008"), gatewayService("gw-a", "bank,own", "203.0.113.1:15008")},
		want: []Waypoint{
			served("bank", "gw-a", "dmz", "203.0.113.1:15008"), served("own", "gw-a", "dmz", "203.0.113.1:15008"),
			served("shop", "gw-b", "n1", "203.0.113.2:15008"),
		},
	}, {
		name:     "two *: the earlier-sorting namespace serves, the other is told",
		services: []corev1.Service{gatewayService("gw-b", "*", "203.0.113.2:15008"), gatewayService("gw-a", "*", "203.0.113.1:15008")},
		want: []Waypoint{
			served("bank", "gw-a", "dmz", "203.0.113.1:15008"), served("own", "gw-a", "dmz", "203.0.113.1:15008"),
			served("shop", "gw-a", "dmz", "203.0.113.1:15008"),
		},
		problems: []problem{{"gw-b", "the gateway in gw-a serves every namespace"}},
	}, {
		name:     "* among names is reported, the names served",
		services: []corev1.Service{gatewayService("gw-b", "shop,*", "203.0.113.2:15008")},
		want:     []Waypoint{served("shop", "gw-b", "n1", "203.0.113.2:15008")},
		problems: []problem{{"gw-b", `"*" (every namespace) must be the whole value`}},
	}, {
		name:     "* twice is not alone",
		services: []corev1.Service{gatewayService("gw-b", "*,*", "203.0.113.2:15008")},
		problems: []problem{{"gw-b", "must be the whole value"}, {"gw-b", "lists no namespace"}},
	}, {
		name:       "nothing left to serve",
		namespaces: map[string]*corev1.Namespace{"gw-a": {ObjectMeta: metav1.ObjectMeta{Name: "gw-a"}}, "kube-system": {ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}}},
		services:   []corev1.Service{gatewayService("gw-a", "*", "203.0.113.1:15008")},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := &Objects{Namespaces: tc.namespaces, Services: tc.services}
			if objs.Namespaces == nil {
				objs.Namespaces = allNamespaces()
			}
			got, problems := Waypoints(Site{Cluster: "east-1", Network: "n1"}, objs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Waypoints =\n%+v\nwant\n%+v", got, tc.want)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems = %+v, want %d", problems, len(tc.problems))
			}
			for i, p := range problems {
				w := tc.problems[i]
				if p.Service.Namespace != w.gateway || p.Reason != meshfedv1.GlobalServiceReasonInvalidGatewayNamespaces || !strings.Contains(p.Message, w.text) {
					t.Errorf("problem %d = %+v, want one of %s saying %q", i, p, w.gateway, w.text)
				}
			}
		})
	}
}

func TestGateways(t *testing.T) {
	objs := &Objects{Services: []corev1.Service{
		gatewayService("gw-b", "*", "203.0.113.2:15008"),
		gatewayService("gw-a", "", "203.0.113.1:15008"),
		{ObjectMeta: metav1.ObjectMeta{Name: wellknown.GatewayName, Namespace: "gw-c"}},
		waypointService("shop", nil, nil),
	}}
	if got := Gateways(objs); !slices.Equal(got, []string{"gw-a", "gw-b"}) {
		t.Fatalf("Gateways = %q, want the two annotated gateway Services' namespaces, sorted", got)
	}
}

// FuzzGatewayWaypointsAll reads three gateways (gw-a, gw-b, gw-c) of the allNamespaces member
// with "own" running its own waypoint, whatever their annotations, and checks the rules: a
// namespace is served once; an explicit list's valid names (not the gateway's own, not "own")
// are served by the first-sorting gateway that lists them; a "*" gateway serves no system,
// gateway, deleted or "own" namespace, and, for the first one, every other namespace left;
// a later "*" gateway serves none. Every problem is of a gateway Service.
func FuzzGatewayWaypointsAll(f *testing.F) {
	f.Add("*", "shop", "")
	f.Add("shop,*", "*", "*")
	f.Add(" * ", "bank, own ,gw-a", "kube-system")
	f.Add("", ",", "gone,shop")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		namespaces := allNamespaces()
		namespaces["gw-c"] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gw-c"}}
		values := map[string]string{"gw-a": a, "gw-b": b, "gw-c": c}
		services := []corev1.Service{waypointService("own", nil, nil)}
		for gw, v := range values {
			services = append(services, gatewayService(gw, v, "203.0.113.1:15008"))
		}
		got, problems := Waypoints(Site{Cluster: "east-1", Network: "n1"}, &Objects{Namespaces: namespaces, Services: services})
		by := map[string]string{}
		for _, w := range got {
			if _, twice := by[w.Namespace]; twice {
				t.Fatalf("namespace %s served twice: %+v", w.Namespace, got)
			}
			by[w.Namespace] = w.Gateway
		}
		if by["own"] != "" {
			t.Fatalf("own, with its own waypoint, served by gateway %s", by["own"])
		}
		all := ""
		for _, gw := range []string{"gw-a", "gw-b", "gw-c"} {
			if strings.TrimSpace(values[gw]) == "*" {
				if all == "" {
					all = gw
				}
				continue
			}
			for entry := range strings.SplitSeq(values[gw], ",") {
				ns := strings.TrimSpace(entry)
				if len(validation.IsDNS1123Label(ns)) > 0 || ns == gw || ns == "own" {
					continue
				}
				if g := by[ns]; g == "" || strings.TrimSpace(values[g]) == "*" || g > gw {
					t.Fatalf("%s lists %s, served by %q: %+v", gw, ns, g, got)
				}
			}
		}
		for ns, n := range namespaces {
			g := by[ns]
			left := !systemNamespaces[ns] && !strings.HasPrefix(ns, "gw-") && n.DeletionTimestamp == nil && ns != "own"
			switch {
			case g != "" && g != all && strings.TrimSpace(values[g]) == "*":
				t.Fatalf("%s served by the later * gateway %s", ns, g)
			case g == all && all != "" && !left:
				t.Fatalf("%s served by the * gateway %s", ns, g)
			case all != "" && left && g == "":
				t.Fatalf("%s served by no gateway, though %s serves every namespace", ns, all)
			}
		}
		for _, p := range problems {
			if p.Service.Name != wellknown.GatewayName || values[p.Service.Namespace] == "" && !strings.Contains(p.Message, "lists no namespace") {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}
