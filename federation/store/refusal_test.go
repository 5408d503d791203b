package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store/internal/etcdlog"
)

// startSmallEtcd starts an etcd whose --max-request-bytes is maxRequest, as an operator's
// external etcd may be configured, and returns a leading writer on it.
func startSmallEtcd(t *testing.T, maxRequest uint) *Writer {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	closing := new(atomic.Bool) // shutdown noise is demoted, as the embedded server does
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(etcdlog.NewLogger(testLogger, closing))
	cfg.MaxRequestBytes = maxRequest
	// Port 0: the kernel picks free ports when etcd listens; clients use the bound one.
	client, _ := url.Parse(loopbackURL("http"))
	peer, _ := url.Parse(loopbackURL("http"))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("StartEtcd: %v", err)
	}
	t.Cleanup(func() { closing.Store(true); e.Close() })
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd not ready")
	}
	c, err := Connect(t.Context(), ClientConfig{Endpoints: []string{"http://" + e.Clients[0].Addr().String()}, Logger: testLogger, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	w := NewWriter(c, WriterOptions{Identity: "hub-0", SessionTTL: 5, Logger: testLogger})
	if err := w.Campaign(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSyncSplitsWhatEtcdRefuses: against an etcd that refuses requests over 200 KB, a batch
// the writer thought small enough is split until etcd takes it, and a record etcd refuses on
// its own fails alone; the store then holds every other record.
func TestSyncSplitsWhatEtcdRefuses(t *testing.T) {
	w := startSmallEtcd(t, 200<<10)
	svc := func(name string, size int) Record {
		s := serviceRecord("shop", name).Model()
		s.Conflicts = []model.Conflict{{Reason: model.ReasonPortConflict, Message: strings.Repeat("x", size)}}
		return NewServiceRecord(&s)
	}
	var desired []Record
	for i := range 6 {
		desired = append(desired, svc(fmt.Sprintf("svc-%d", i), 80<<10))
	}
	desired = append(desired, svc("too-big-here", 300<<10))
	res, err := w.Sync(t.Context(), SelectServices("shop"), desired)
	var nw *NotWrittenError
	if !errors.As(err, &nw) || len(nw.Records) != 1 || nw.Records[0].Key.Name != "too-big-here" || !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("Sync = %+v, %v; want too-big-here not written", res, err)
	}
	l, err := w.client.List(t.Context(), ServicesPrefix("shop"))
	if err != nil || len(l.Services()) != 6 || res.Put != 6 {
		t.Fatalf("after Sync %+v the store holds %d services (%v), want 6", res, len(l.Services()), err)
	}
}
