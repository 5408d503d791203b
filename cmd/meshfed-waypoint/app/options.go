package app

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/waypoint"
)

// Options configure a waypoint.
type Options struct {
	Namespace string
	Cluster   string
	Network   string
	Region    string
	Zone      string
	Subzone   string
	Node      string
	// EtcdEndpoints are the federation store's client URLs; the TLS files are optional.
	EtcdEndpoints []string
	EtcdCAFile    string
	EtcdCertFile  string
	EtcdKeyFile   string
	// ListenHost is where outbound listeners bind.
	ListenHost string
	// AdminAddr serves /healthz, /readyz and /debug/endpoints; "0" disables.
	AdminAddr      string
	ConnectTimeout time.Duration
	Retries        int
	LogLevel       slog.Level
}

// DefaultOptions reads the defaults from the environment (getenv is os.Getenv in main).
func DefaultOptions(getenv func(string) string) Options {
	return Options{
		Namespace:      getenv("POD_NAMESPACE"),
		Cluster:        getenv("MESHFED_CLUSTER"),
		Network:        getenv("MESHFED_NETWORK"),
		Region:         getenv("MESHFED_REGION"),
		Zone:           getenv("MESHFED_ZONE"),
		Subzone:        getenv("MESHFED_SUBZONE"),
		Node:           getenv("NODE_NAME"),
		EtcdEndpoints:  splitList(getenv("MESHFED_ETCD_ENDPOINTS")),
		EtcdCAFile:     getenv("MESHFED_ETCD_CA_FILE"),
		EtcdCertFile:   getenv("MESHFED_ETCD_CERT_FILE"),
		EtcdKeyFile:    getenv("MESHFED_ETCD_KEY_FILE"),
		ListenHost:     "0.0.0.0",
		AdminAddr:      ":15021",
		ConnectTimeout: waypoint.DefaultConnectTimeout,
		Retries:        waypoint.DefaultRetries,
	}
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// AddFlags registers every option as a flag.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "namespace this waypoint serves ($POD_NAMESPACE)")
	fs.StringVar(&o.Cluster, "cluster", o.Cluster, "member cluster the waypoint runs in ($MESHFED_CLUSTER)")
	fs.StringVar(&o.Network, "network", o.Network, "network of the waypoint's cluster ($MESHFED_NETWORK)")
	fs.StringVar(&o.Region, "region", o.Region, "region of the waypoint's node ($MESHFED_REGION)")
	fs.StringVar(&o.Zone, "zone", o.Zone, "zone of the waypoint's node ($MESHFED_ZONE)")
	fs.StringVar(&o.Subzone, "subzone", o.Subzone, "subzone of the waypoint's node ($MESHFED_SUBZONE)")
	fs.StringVar(&o.Node, "node", o.Node, "name of the waypoint's node ($NODE_NAME)")
	fs.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", o.EtcdEndpoints, "federation store client URLs ($MESHFED_ETCD_ENDPOINTS, comma separated)")
	fs.StringVar(&o.EtcdCAFile, "etcd-ca-file", o.EtcdCAFile, "CA bundle verifying the store ($MESHFED_ETCD_CA_FILE)")
	fs.StringVar(&o.EtcdCertFile, "etcd-cert-file", o.EtcdCertFile, "client certificate for the store ($MESHFED_ETCD_CERT_FILE)")
	fs.StringVar(&o.EtcdKeyFile, "etcd-key-file", o.EtcdKeyFile, "client key for the store ($MESHFED_ETCD_KEY_FILE)")
	fs.StringVar(&o.ListenHost, "listen-host", o.ListenHost, "address the outbound listeners bind to")
	fs.StringVar(&o.AdminAddr, "admin-address", o.AdminAddr, "address of /healthz, /readyz and /debug/endpoints; 0 disables")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", o.ConnectTimeout, "timeout of one connect attempt")
	fs.IntVar(&o.Retries, "retries", o.Retries, "connect retries on another endpoint; negative disables")
	fs.TextVar(&o.LogLevel, "log-level", o.LogLevel, "log level: debug, info, warn, error")
}

// Validate checks that the waypoint knows where it is and where the store is.
func (o *Options) Validate() error {
	var errs []error
	if o.Namespace == "" || o.Cluster == "" || o.Network == "" {
		errs = append(errs, errors.New("--namespace, --cluster and --network are required"))
	}
	if len(o.EtcdEndpoints) == 0 {
		errs = append(errs, errors.New("--etcd-endpoints is required"))
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-cert-file and --etcd-key-file go together"))
	}
	return errors.Join(errs...)
}
