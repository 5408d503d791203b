package waypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// NewCommand returns the waypoint command with its apply and delete subcommands.
func NewCommand(streams cli.Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "waypoint",
		Short: "Deploy or remove a namespace's waypoint in a member cluster",
		Long: `A waypoint carries a namespace's traffic to global services: one Deployment per
namespace per member cluster, selected by the derived Services the hub writes there.`,
	}
	cmd.AddCommand(newApplyCommand(streams), newDeleteCommand(streams))
	return cmd
}

type applyFlags struct {
	pair        *cli.PairFlags
	spec        Spec
	serviceType string
	dryRun      bool
	placement   placementFlags
	// storeCA is --store-ca-secret; issueStore is set when apply issues the store certificate.
	storeCA    string
	issueStore bool
	// serves is --gateway-namespaces; certSecretSet: --cert-secret was given.
	serves        []string
	certSecretSet bool
}

// placementFlags are the flags of where the pods run, what they may use and how they scale.
type placementFlags struct {
	nodeSelector []string
	tolerations  []string
	antiAffinity string
	podRPS       int32
	resources    ResourceFlags
	autoscale    string
	autoscaleCPU int32
	// replicasSet: --replicas was given, which --autoscale replaces.
	replicasSet bool
}

func (p *placementFlags) addFlags(fs *pflag.FlagSet, drain *Drain) {
	fs.StringSliceVar(&p.nodeSelector, "node-selector", nil, "KEY=VALUE node labels the pods must run on (repeat or comma separate), e.g. a node pool dedicated to gateways")
	fs.StringSliceVar(&p.tolerations, "toleration", nil, "KEY[=VALUE][:EFFECT] taint the pods tolerate (repeat or comma separate): without =VALUE any value, without :EFFECT every effect (NoSchedule, PreferNoSchedule, NoExecute)")
	fs.StringVar(&p.antiAffinity, "anti-affinity", string(AntiAffinityPreferred), "spreading of the pods over nodes, then zones, when more than one can run: preferred, required (never two on one node) or none")
	fs.Int32Var(&p.podRPS, "pod-rps", DefaultPodRPS, "requests per second one pod is sized for: the CPU and memory defaults follow from it (400m CPU and at least 64Mi per 1,000 requests/s, measured)")
	fs.StringVar(&p.resources.CPURequest, "cpu-request", "", "CPU request of a pod (default: derived from --pod-rps)")
	fs.StringVar(&p.resources.CPULimit, "cpu-limit", "", "CPU limit of a pod, 0 for none (default: --procs cores, none with --procs 0)")
	fs.StringVar(&p.resources.MemoryRequest, "memory-request", "", "memory request of a pod (default: derived from --pod-rps)")
	fs.StringVar(&p.resources.MemoryLimit, "memory-limit", "", "memory limit of a pod, 0 for none (default: 4 × the memory request)")
	fs.StringVar(&p.autoscale, "autoscale", "", "MIN:MAX: add a HorizontalPodAutoscaler that scales the pods on CPU between MIN and MAX, instead of --replicas")
	fs.Int32Var(&p.autoscaleCPU, "autoscale-cpu", DefaultAutoscaleCPU, "with --autoscale: target average CPU use in percent of the CPU request")
	fs.DurationVar(&drain.ShutdownDelay, "shutdown-delay", DefaultShutdownDelay, "how long a stopping pod fails readiness but keeps accepting, while Services and peers drop it")
	fs.DurationVar(&drain.Timeout, "drain-timeout", DefaultDrainTimeout, "how long a stopping pod then waits for requests, connections and tunnels in flight; the termination grace period covers both and 5 s more")
}

// apply checks the placement flags and sets them in s; all errors are reported together.
func (p *placementFlags) apply(s *Spec) error {
	var errs []error
	var err error
	if s.NodeSelector, err = ParseNodeSelector(p.nodeSelector); err != nil {
		errs = append(errs, err)
	}
	if s.Tolerations, err = ParseTolerations(p.tolerations); err != nil {
		errs = append(errs, err)
	}
	if s.AntiAffinity, err = ParseAntiAffinity(p.antiAffinity); err != nil {
		errs = append(errs, err)
	}
	if p.podRPS < 1 || p.podRPS > MaxPodRPS {
		errs = append(errs, fmt.Errorf("invalid --pod-rps %d: want 1 to %d", p.podRPS, MaxPodRPS))
	} else if r, err := p.resources.Resolve(p.podRPS, s.Procs); err != nil {
		errs = append(errs, err)
	} else {
		s.Resources = &r
	}
	if p.autoscale != "" {
		lo, hi, err := ParseAutoscale(p.autoscale)
		if err != nil {
			errs = append(errs, err)
		}
		if err := validateCPUPercent(p.autoscaleCPU); err != nil {
			errs = append(errs, err)
		}
		if p.replicasSet {
			errs = append(errs, errors.New("--replicas and --autoscale exclude each other: the autoscaler sets the replicas"))
		}
		s.Autoscale = &Autoscale{Min: lo, Max: hi, CPUPercent: p.autoscaleCPU}
	}
	if err := s.Drain.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func newApplyCommand(streams cli.Streams) *cobra.Command {
	f := &applyFlags{pair: cli.NewPairFlags("waypoint apply")}
	cmd := &cobra.Command{
		Use:   "apply -n NAMESPACE --cluster NAME --hub-context HUB --member-context MEMBER --etcd-endpoints URL[,URL]",
		Short: "Create or update the waypoint of a namespace",
		Long: `Apply creates, in namespace NAMESPACE of the member cluster --member-context points at, the
waypoint's ServiceAccount meshfed-waypoint, a ClusterRole and ClusterRoleBinding
meshfed-waypoint-NAMESPACE that let it get Nodes (it reads its Node's topology labels to learn its
region, zone and subzone), the Deployment meshfed-waypoint and the Service meshfed-waypoint (HBONE
on port 15008, TCP and UDP). The pods mount the Secret --cert-secret (keys tls.crt, tls.key,
ca.crt) read-only for their HBONE certificates, and a Secret with their store client certificate
(same keys) when the store is https. The pods run with GOMAXPROCS set to --procs (default 2) rather than every CPU of
the node: a waypoint's CPU per request grows with the number of Ps at a moderate load.

Placement: --node-selector and --toleration put the pods on dedicated nodes; with more than one
pod they prefer different nodes, then zones (--anti-affinity). Requests and limits default to
the measured cost of --pod-rps requests/s per pod (0.4 cores per 1,000 requests/s; 40 MiB,
not less, plus half again; memory limit 4 × the request; CPU limit --procs cores). With more
than one pod a PodDisruptionBudget keeps one available through node drains; --autoscale MIN:MAX
adds a HorizontalPodAutoscaler on CPU instead of --replicas. A stopping pod fails readiness,
keeps accepting for --shutdown-delay, then finishes what is in flight for up to
--drain-timeout; the termination grace period covers both. Applying with fewer pods or without
--autoscale deletes the budget or the autoscaler it no longer wants.

Before writing anything it checks, on the hub (--hub-context), that --cluster is joined and that
--network is the network it joined with (without --network, the hub's is used), and, in the
member, that the namespace and the certificate Secrets exist with their keys.

With https --etcd-endpoints and no --etcd-secret, apply issues the store client certificate
itself, so that the pods can start at once: it reads the hub's CA from --store-ca-secret on the
hub, signs a certificate for the etcd user meshfed-waypoint:NAMESPACE:CLUSTER (which reads that
namespace's records only), valid 30 days, and writes it into the Secret meshfed-waypoint-store
of the namespace. A hub running the embedded store replaces it with one of its own lifetime
(--waypoint-cert-validity, 24h) once it publishes the waypoint, and renews it from then on,
together with the HBONE certificate in meshfed-waypoint-certs: with the default --cert-secret
apply then does not require that Secret to exist (the pods start once the hub wrote it), and a
Secret you created yourself (without the managed-by label) is never replaced. The waypoints
reload both certificates without restarting. --etcd-secret names a store Secret you provide
instead (an external etcd whose CA the hub does not hold).

It uses server-side apply and prints, for each object, created, configured or unchanged; applying
again with the same flags prints only unchanged. An object that exists without the label
app.kubernetes.io/managed-by=meshfed is never taken over: apply stops with an error naming it.
With --dry-run it prints the objects as YAML and contacts no cluster (then --network is needed).

Shared gateway: with --gateway-namespaces NS[,NS...], apply creates instead, in NAMESPACE (a
namespace of its own, such as meshfed-system), one gateway that serves the listed namespaces of
the member through one HBONE address: the same objects named meshfed-gateway, the Service
annotated meshfed.io/gateway-namespaces for the hub, and the pods told the namespaces they
serve. The hub publishes the gateway's address for each listed namespace that has no waypoint
of its own in the cluster, issues the gateway's certificates into meshfed-gateway-certs and
meshfed-gateway-store (SPIFFE ID spiffe://<trust domain>/ns/NAMESPACE/sa/meshfed-gateway; etcd
user meshfed-gateway:NAMESPACE:CLUSTER, which reads the listed namespaces' records only), and
points the derived Services of the listed namespaces at the gateway's pods. Applying again
with another list changes what it serves. With --gateway-namespaces '*' it serves every
namespace of the cluster except Kubernetes' own, the namespaces gateways run in, those with a
waypoint of their own and those another gateway lists by name, including namespaces created
later: its pods follow the set the hub publishes in the store.`,
		Example: `  meshfedctl waypoint apply -n shop --cluster east-1 --hub-context kind-hub --member-context kind-east-1 \
    --etcd-endpoints https://172.18.0.2:32379

  # one gateway for the namespaces shop and bank, reachable from other networks
  meshfedctl waypoint apply -n meshfed-system --gateway-namespaces shop,bank --service-type LoadBalancer \
    --cluster east-1 --hub-context kind-hub --member-context kind-east-1 --etcd-endpoints https://172.18.0.2:32379`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.placement.replicasSet = cmd.Flags().Changed("replicas")
			f.certSecretSet = cmd.Flags().Changed("cert-secret")
			if err := f.validate(); err != nil {
				return cmdline.Usage(err)
			}
			if f.dryRun {
				return WriteYAML(streams.Out, Objects(f.spec))
			}
			hub, err := f.pair.HubClient()
			if err != nil {
				return err
			}
			if err := CheckHub(cmd.Context(), hub, &f.spec); err != nil {
				return err
			}
			member, err := f.pair.MemberClient()
			if err != nil {
				return err
			}
			if f.issueStore {
				if err := f.issueStoreCert(cmd.Context(), hub, member, streams.Out); err != nil {
					return err
				}
			}
			return Apply(cmd.Context(), member, f.pair.MemberContext(), f.spec, streams.Out)
		},
	}
	fs := cmd.Flags()
	f.pair.AddFlags(fs)
	cli.RegisterPairCompletions(cmd, f.pair)
	fs.StringVarP(&f.spec.Namespace, "namespace", "n", "", "namespace of the waypoint, or of the shared gateway with --gateway-namespaces (required)")
	fs.StringSliceVar(&f.serves, "gateway-namespaces", nil, "deploy a shared gateway in --namespace serving these namespaces (repeat or comma separate), or '*' for every namespace of the cluster left to it, instead of a namespace's waypoint")
	fs.StringVar(&f.spec.Cluster, "cluster", "", "name of the member cluster, as joined to the hub (required)")
	fs.StringVar(&f.spec.Network, "network", "", "network of the member cluster, as joined to the hub (default: the hub's)")
	fs.StringSliceVar(&f.spec.EtcdEndpoints, "etcd-endpoints", nil, "client URLs of the federation store, as the waypoint pods reach them (required)")
	fs.StringVar(&f.spec.Image, "image", DefaultImage, "waypoint container image")
	fs.Int32Var(&f.spec.Replicas, "replicas", DefaultReplicas, "number of waypoint pods")
	fs.StringVar(&f.spec.CertSecret, "cert-secret", DefaultCertSecret, "Secret with the waypoint's tls.crt, tls.key and ca.crt (default with --gateway-namespaces: "+wellknown.GatewayCertSecret+")")
	fs.StringVar(&f.spec.EtcdSecret, "etcd-secret", "", "Secret with tls.crt, tls.key and ca.crt for a TLS federation store (default: with https endpoints, "+wellknown.WaypointStoreSecret+", or "+wellknown.GatewayStoreSecret+" for a shared gateway, issued by apply)")
	fs.StringVar(&f.storeCA, "store-ca-secret", DefaultStoreCA.String(), "NAMESPACE/NAME of the hub's store CA Secret, which signs the store certificate apply issues")
	fs.StringVar(&f.serviceType, "service-type", string(corev1.ServiceTypeClusterIP), "type of the waypoint Service: ClusterIP, NodePort or LoadBalancer (other networks need an address they can reach)")
	fs.Int32Var(&f.spec.Procs, "procs", DefaultProcs, "GOMAXPROCS of the waypoint pods: 1 costs the least CPU per request at moderate load, more serve more requests per pod; 0 leaves Go's default (every CPU of the node, or the container's CPU limit)")
	f.placement.addFlags(fs, &f.spec.Drain)
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the objects as YAML instead of applying them")
	_ = cmd.RegisterFlagCompletionFunc("cluster", cli.CompleteMembers(f.pair.HubClient, false))
	_ = cmd.RegisterFlagCompletionFunc("network", cli.CompleteMembers(f.pair.HubClient, true))
	_ = cmd.RegisterFlagCompletionFunc("service-type", cobra.FixedCompletions([]string{"ClusterIP", "NodePort", "LoadBalancer"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("anti-affinity", cobra.FixedCompletions([]string{"preferred", "required", "none"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// validate checks the line before any cluster is contacted.
func (f *applyFlags) validate() error {
	var errs []error
	for _, r := range []struct{ flag, value string }{
		{"namespace", f.spec.Namespace}, {"cluster", f.spec.Cluster}, {"etcd-endpoints", strings.Join(f.spec.EtcdEndpoints, ",")},
	} {
		if r.value == "" {
			errs = append(errs, fmt.Errorf("missing --%s", r.flag))
		}
	}
	if f.dryRun && f.spec.Network == "" {
		errs = append(errs, errors.New("missing --network: --dry-run does not ask the hub for it"))
	}
	if !f.dryRun {
		errs = append(errs, f.pair.Validate(true))
	}
	switch t := corev1.ServiceType(f.serviceType); t {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		f.spec.ServiceType = t
	default:
		errs = append(errs, fmt.Errorf("invalid --service-type %q: want ClusterIP, NodePort or LoadBalancer", f.serviceType))
	}
	if f.spec.Replicas < 0 {
		errs = append(errs, fmt.Errorf("invalid --replicas %d: must not be negative", f.spec.Replicas))
	}
	if f.spec.Procs < 0 || f.spec.Procs > MaxProcs {
		errs = append(errs, fmt.Errorf("invalid --procs %d: want 0 (Go's default) to %d", f.spec.Procs, MaxProcs))
	}
	if len(f.serves) > 0 {
		serves, err := ParseServes(f.spec.Namespace, f.serves)
		errs = append(errs, err)
		f.spec.Serves = serves
	}
	certSecret, etcdSecret := f.spec.defaultSecrets()
	if !f.certSecretSet {
		f.spec.CertSecret = certSecret
	}
	if NeedsStoreCert(f.spec.EtcdEndpoints) && f.spec.EtcdSecret == "" {
		f.spec.EtcdSecret, f.issueStore = etcdSecret, true
		f.spec.HubIssuesCert = f.spec.CertSecret == certSecret
	}
	if ns, name, ok := strings.Cut(f.storeCA, "/"); !ok || ns == "" || name == "" {
		errs = append(errs, fmt.Errorf("invalid --store-ca-secret %q: want NAMESPACE/NAME", f.storeCA))
	}
	if f.spec.CertSecret == "" {
		errs = append(errs, errors.New("--cert-secret must not be empty: the waypoint needs its HBONE certificate"))
	}
	errs = append(errs, f.placement.apply(&f.spec))
	return errors.Join(errs...)
}

// issueStoreCert reads the hub's CA and makes the member's store Secret current
// (EnsureStoreSecret), after checking the namespace exists.
func (f *applyFlags) issueStoreCert(ctx context.Context, hub, member client.Client, out io.Writer) error {
	side := f.pair.MemberContext()
	if err := checkNamespace(ctx, member, side, f.spec.Namespace); err != nil {
		return err
	}
	ns, name, _ := strings.Cut(f.storeCA, "/")
	now := time.Now()
	ca, err := ReadStoreCA(ctx, hub, client.ObjectKey{Namespace: ns, Name: name}, now)
	if err != nil {
		return err
	}
	return EnsureStoreSecret(ctx, member, side, ca, f.spec, now, out)
}

func newDeleteCommand(streams cli.Streams) *cobra.Command {
	cluster := cli.NewClusterFlags()
	var shared bool
	cmd := &cobra.Command{
		Use:   "delete -n NAMESPACE [--gateway] [--context MEMBER]",
		Short: "Remove the waypoint of a namespace, or the shared gateway running in it",
		Long: `Delete removes what apply creates for NAMESPACE in the member cluster --context points at
(default: the current context): the HorizontalPodAutoscaler, PodDisruptionBudget, Service,
Deployment, ClusterRoleBinding, ClusterRole and ServiceAccount, printing deleted or absent for
each. Objects without the label
app.kubernetes.io/managed-by=meshfed are kept and reported. Deleting a waypoint that is gone
succeeds. The Secrets the pods mount are not apply's and are left alone. With --gateway it
removes the shared gateway (meshfed-gateway) that apply --gateway-namespaces created in
NAMESPACE instead.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ns := cluster.NamespaceFlag()
			if ns == "" {
				return cmdline.Usagef("missing -n NAMESPACE: the namespace whose waypoint to delete")
			}
			c, _, err := cluster.Client()
			if err != nil {
				return err
			}
			side, err := cluster.ContextName()
			if err != nil {
				return err
			}
			return Delete(cmd.Context(), c, side, ns, shared, streams.Out)
		},
	}
	cluster.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&shared, "gateway", false, "remove the shared gateway in NAMESPACE, not the namespace's waypoint")
	cli.RegisterCompletions(cmd, cluster)
	return cmd
}
