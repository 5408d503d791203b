package ca

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// File names of the CA inside its directory.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
)

// NewCommand returns `meshfedctl ca` with its init and issue subcommands.
func NewCommand(streams cli.Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Create a development root CA and issue workload certificates",
	}
	cmd.AddCommand(newInitCommand(streams), newIssueCommand(streams))
	return cmd
}

type initFlags struct {
	dir         string
	trustDomain string
	ttl         time.Duration
	force       bool
}

func newInitCommand(streams cli.Streams) *cobra.Command {
	f := &initFlags{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a development root CA (ECDSA P-256) in --dir",
		Args:  cmdline.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return runInit(streams, f) },
	}
	cmd.Flags().StringVar(&f.dir, "dir", "meshfed-ca", "directory for ca.crt and ca.key")
	cmd.Flags().StringVar(&f.trustDomain, "trust-domain", "cluster.local", "SPIFFE trust domain of the CA")
	cmd.Flags().DurationVar(&f.ttl, "ttl", 10*365*24*time.Hour, "validity of the root certificate")
	cmd.Flags().BoolVar(&f.force, "force", false, "overwrite an existing CA")
	return cmd
}

func runInit(streams cli.Streams, f *initFlags) error {
	keyPath := filepath.Join(f.dir, caKeyFile)
	if _, err := os.Stat(keyPath); err == nil && !f.force {
		return fmt.Errorf("failed to create CA %s: %w", keyPath, os.ErrExist)
	}
	ca, err := identity.NewRootCA(f.trustDomain, f.ttl)
	if err != nil {
		return err
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return fmt.Errorf("failed to create directory %s: %w", f.dir, err)
	}
	if err := identity.WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := identity.WriteFileAtomic(filepath.Join(f.dir, caCertFile), ca.CertPEM(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "Created root CA for trust domain %s in %s (valid until %s)\n", f.trustDomain, f.dir, ca.Certificate.NotAfter.Format(time.RFC3339))
	return nil
}

type issueFlags struct {
	caDir    string
	spiffeID string
	cluster  string
	sans     []string
	out      string
	ttl      time.Duration
}

func newIssueCommand(streams cli.Streams) *cobra.Command {
	f := &issueFlags{}
	cmd := &cobra.Command{
		Use:   "issue --spiffe-id spiffe://<td>/ns/<ns>/sa/<sa> [--cluster NAME] --out DIR",
		Short: "Issue an ECDSA P-256 workload certificate (tls.crt, tls.key, ca.crt in --out)",
		Args:  cmdline.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return runIssue(streams, f) },
	}
	cmd.Flags().StringVar(&f.caDir, "ca-dir", "meshfed-ca", "directory of the CA, as ca init wrote it")
	cmd.Flags().StringVar(&f.spiffeID, "spiffe-id", "", "SPIFFE ID of the workload (required)")
	cmd.Flags().StringVar(&f.cluster, "cluster", "", "member cluster the workload runs in, written into the certificate's Subject (O=meshfed, OU=<cluster>); "+
		"a waypoint's certificate needs it: other waypoints authorize its tunnels by this cluster")
	cmd.Flags().StringSliceVar(&f.sans, "san", nil, "extra IP address or DNS name SAN (repeatable), for clients that check the server's address as a host name, such as Istio's Go HBONE dialer")
	cmd.Flags().StringVar(&f.out, "out", "", "directory for tls.crt, tls.key and ca.crt (required)")
	cmd.Flags().DurationVar(&f.ttl, "ttl", 24*time.Hour, "validity of the certificate (capped at the CA's)")
	return cmd
}

func runIssue(streams cli.Streams, f *issueFlags) error {
	if f.spiffeID == "" || f.out == "" {
		return cmdline.Usage(errors.New("missing --spiffe-id or --out: both are required"))
	}
	id, err := identity.ParseID(f.spiffeID)
	if err != nil {
		return err
	}
	ca, err := loadCA(f.caDir)
	if err != nil {
		return err
	}
	if td := ca.TrustDomain(); td != "" && td != id.TrustDomain() {
		return fmt.Errorf("failed to issue certificate %s: CA trust domain is %s", id, td)
	}
	w := identity.Workload{ID: id, Cluster: f.cluster}
	issued, err := ca.Issue(w, f.ttl, f.sans...)
	if err != nil {
		return err
	}
	if err := identity.WriteFiles(f.out, issued, ca.CertPEM()); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "Issued %s into %s\n", w, f.out)
	return nil
}

func loadCA(dir string) (*identity.CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, fmt.Errorf("failed to read CA certificate %s: %w", dir, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, fmt.Errorf("failed to read CA key %s: %w", dir, err)
	}
	return identity.LoadCA(certPEM, keyPEM)
}
