package membership

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
)

// Sides are the two clusters of a join, with the clients to reach them.
type Sides struct {
	Hub          client.Client
	Member       client.Client
	MemberConfig *rest.Config
	// MemberServer is the member API address as the hub reaches it; empty means the
	// member config's own host.
	MemberServer string
	// TokenTTL is the lifetime asked of the member's ServiceAccount token.
	TokenTTL time.Duration
	// VerifyTimeout bounds the check that the new credentials work.
	VerifyTimeout time.Duration
}

// Join creates (or brings up to date) everything membership needs on both sides and checks that
// the hub's credentials reach the member. Running it again changes nothing while the stored
// credentials still work.
//
// Before writing anything it reads the member's cluster ID and refuses a cluster the hub has
// under another name (ErrDuplicateCluster), and a change of an existing member's network,
// segment or cluster unless o.Force (ErrChangeRefused); a forced change is printed and recorded
// as a Warning Event on the MemberCluster. Objects written into the member are marked as used
// by this join (JoinID), and the member's ClusterProperty cluster.clusterset.k8s.io is written
// when absent.
func Join(ctx context.Context, s Sides, o Options, out io.Writer) error {
	var err error
	if o.ClusterID, err = ClusterID(ctx, s.Member, "the member"); err != nil {
		return err
	}
	hubID, err := ClusterID(ctx, s.Hub, "the hub")
	if err != nil {
		return err
	}
	changes, err := preflight(ctx, s.Hub, o)
	if err != nil {
		return err
	}
	join := JoinID(o.Name, hubID)
	for _, obj := range MemberObjects() {
		if err := Ensure(ctx, s.Member, "member", obj, join, out); err != nil {
			return err
		}
	}
	if err := ensureClusterProperty(ctx, s.Member, o.ClusterID, join, out); err != nil {
		return err
	}
	kubeconfig, err := credentials(ctx, s, o, out)
	if err != nil {
		return err
	}
	if err := Ensure(ctx, s.Hub, "hub", hubNamespace(o.HubNamespace), HubOwner, out); err != nil {
		return err
	}
	for _, obj := range HubObjects(o, kubeconfig) {
		if err := Ensure(ctx, s.Hub, "hub", obj, "", out); err != nil {
			return err
		}
	}
	if err := reportChanges(ctx, s.Hub, o.Name, changes, out); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "joined %s (network %s, segment %s, cluster ID %s)\n", o.Name, o.Network, o.Segment, o.ClusterID)
	return err
}

// credentials returns the kubeconfig the hub will use: the stored one while it still reaches
// the member at the same server, else one with a fresh token.
func credentials(ctx context.Context, s Sides, o Options, out io.Writer) ([]byte, error) {
	server := s.MemberServer
	if server == "" {
		server = s.MemberConfig.Host
	}
	var existing corev1.Secret
	err := s.Hub.Get(ctx, client.ObjectKey{Namespace: o.HubNamespace, Name: SecretName(o.Name)}, &existing)
	if err == nil {
		if kc := existing.Data[KubeconfigKey]; serverOf(kc) == server && verify(ctx, kc, 0) == nil {
			_, err := fmt.Fprintf(out, "%-7s stored credentials still reach the member\n", "hub")
			return kc, err
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("failed to read hub secret %s: %w", SecretName(o.Name), err)
	}
	token, err := issueToken(ctx, s.MemberConfig, s.TokenTTL)
	if err != nil {
		return nil, err
	}
	ca, err := caData(s.MemberConfig)
	if err != nil {
		return nil, err
	}
	kc, err := Kubeconfig(o.Name, server, ca, s.MemberConfig.Insecure, token)
	if err != nil {
		return nil, fmt.Errorf("failed to render kubeconfig for %s: %w", o.Name, err)
	}
	if err := verify(ctx, kc, s.VerifyTimeout); err != nil {
		return nil, fmt.Errorf("failed to verify the hub's credentials for %s: %w", o.Name, err)
	}
	_, err = fmt.Fprintf(out, "%-7s issued a token for ServiceAccount %s/%s and verified it reaches the member\n", "member", wellknown.SystemNamespace, MemberServiceAccount)
	return kc, err
}

func issueToken(ctx context.Context, cfg *rest.Config, ttl time.Duration) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("failed to build member client: %w", err)
	}
	secs := int64(ttl / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(wellknown.SystemNamespace).CreateToken(ctx, MemberServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("failed to issue token for %s: %w", MemberServiceAccount, err)
	}
	return tr.Status.Token, nil
}

func caData(cfg *rest.Config) ([]byte, error) {
	if len(cfg.CAData) > 0 || cfg.CAFile == "" {
		return cfg.CAData, nil
	}
	data, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read member CA file %s: %w", cfg.CAFile, err)
	}
	return data, nil
}

// verify connects with kubeconfig exactly as the hub will, and reads what the hub reads. RBAC
// bindings take a moment to apply, so it retries until timeout.
func verify(ctx context.Context, kubeconfig []byte, timeout time.Duration) error {
	cfg, err := member.RESTConfigFromKubeconfig(kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 10 * time.Second
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		err = c.List(ctx, &discoveryv1.EndpointSliceList{}, client.Limit(1))
		if err == nil {
			err = c.List(ctx, &corev1.ServiceList{}, client.Limit(1))
		}
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func serverOf(kubeconfig []byte) string {
	cfg, err := member.RESTConfigFromKubeconfig(kubeconfig)
	if err != nil {
		return ""
	}
	return cfg.Host
}
