package waypoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meshfed/meshfed/federation/store"
)

// followRecord serves the namespaces the gateway's store record lists (GatewayOptions.
// FollowRecord) until ctx ends: it reads the record through a client connect opens for its
// key every poll interval, and adds and removes namespaces as the list changes. The gateway's
// etcd user may read that one key, which a single-key Get needs and a watch (a range) would
// not get. A record that does not decode, or a store that does not answer, changes nothing; a
// record that is absent serves nothing, and is not ready until it has been read once.
func (g *Gateway) followRecord(ctx context.Context, connect StoreConnector) error {
	key := store.GatewayKey(g.opts.Cluster, g.opts.Namespace)
	c, err := connect(ctx, key.String())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("failed to connect to the store for the gateway record %s: %w", key, err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			g.log.Warn("failed to close the gateway record's store client", "error", err)
		}
	}()
	ticker := time.NewTicker(g.poll)
	defer ticker.Stop()
	r := recordReader{g: g, key: key}
	for {
		r.read(ctx, c)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// recordReader reads the gateway's record and applies what it says.
type recordReader struct {
	g    *Gateway
	key  store.Key
	last string // what the last read said, logged when it changes
	said bool   // a read has said what to serve
}

// read reads the record once and applies the namespaces it lists.
func (r *recordReader) read(ctx context.Context, c *store.Client) {
	e, found, err := c.Get(ctx, r.key)
	if ctx.Err() != nil {
		return
	}
	rec, ok := e.Record.(*store.GatewayRecord)
	if err == nil && found && !ok {
		err = fmt.Errorf("a %T under its key", e.Record)
	}
	switch {
	case err != nil:
		what := fmt.Sprintf("gateway record %s not read: %v", r.key, err)
		r.report(what, true)
		if !r.said {
			r.g.setServed(nil, what) // nothing served yet: only why not ready changes
		}
	case !found:
		r.report(fmt.Sprintf("no gateway record %s in the store: serving no namespace", r.key), false)
		why := ""
		if !r.said {
			why = fmt.Sprintf("no gateway record %s in the store yet", r.key)
		}
		r.g.setServed(nil, why)
	default:
		serves := r.servable(rec.Serves)
		r.report(fmt.Sprintf("gateway record %s: serving %s", r.key, namesOrNone(serves)), false)
		r.said = true
		r.g.setServed(serves, "")
	}
}

// namesOrNone lists namespaces for a log line.
func namesOrNone(namespaces []string) string {
	if len(namespaces) == 0 {
		return "no namespace"
	}
	return strings.Join(namespaces, ", ")
}

// servable are the namespaces of serves the gateway can serve; the store validated the
// record, so the others are only logged.
func (r *recordReader) servable(serves []string) []string {
	opts := GatewayOptions{Options: r.g.opts}
	out := make([]string, 0, len(serves))
	for _, ns := range serves {
		err := opts.validateServed(ns)
		if err == nil && (ns == r.g.opts.Namespace || slices.Contains(out, ns)) {
			err = errors.New("the gateway's own namespace, or listed twice")
		}
		if err != nil {
			r.g.log.Warn("not serving a namespace the gateway record lists", "servedNamespace", ns, "error", err)
			continue
		}
		out = append(out, ns)
	}
	return out
}

// report logs what a read said when it differs from the last.
func (r *recordReader) report(what string, failed bool) {
	if what == r.last {
		return
	}
	r.last = what
	if failed {
		r.g.log.Warn(what + "; serving what it said before")
		return
	}
	r.g.log.Info(what)
}
