package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
)

// Example shows the store's life cycle as the hub and a waypoint see it: an embedded etcd, a
// writer that wins the election and writes a record, and a reader that gets it back and
// follows the prefix with a watch.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	dir, err := os.MkdirTemp("", "meshfed-store-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()
	srv, err := embedded.Start(ctx, embedded.Config{
		DataDir: dir, ClientURL: "http://" + freeAddress(), PeerURL: "http://" + freeAddress(), Logger: log,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// The hub: one client, one fenced writer.
	hub, err := store.Connect(ctx, store.ClientConfig{Endpoints: srv.Endpoints(), Logger: log})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = hub.Close() }()
	w := store.NewWriter(hub, store.WriterOptions{Identity: "hub-0", Logger: log})
	if err := w.Campaign(ctx); err != nil {
		fmt.Println(err)
		return
	}
	rec := &store.ClusterRecord{Name: "east-1", Network: "net-a", Region: "eu-west", Segment: "default", Ready: true}
	if _, err := w.Put(ctx, rec); err != nil {
		fmt.Println(err)
		return
	}

	// A reader: Get one key, then watch the prefix from the revision it read.
	e, found, err := hub.Get(ctx, store.ClusterKey("east-1"))
	if err != nil || !found {
		fmt.Println(found, err)
		return
	}
	c := e.Record.(*store.ClusterRecord)
	fmt.Printf("%s: network %s, region %s, ready %v\n", e.Key, c.Network, c.Region, c.Ready)

	watch, err := hub.Watch(ctx, store.ClustersPrefix, e.ModRevision)
	if err != nil {
		fmt.Println(err)
		return
	}
	rec.Ready = false
	if _, err := w.Put(ctx, rec); err != nil {
		fmt.Println(err)
		return
	}
	b, ok := <-watch.Batches()
	if !ok {
		fmt.Println("watch ended")
		return
	}
	for _, ev := range b.Events {
		fmt.Printf("watched %s: ready %v\n", ev.Key, ev.Record.(*store.ClusterRecord).Ready)
	}
	// Output:
	// /meshfed/v1/clusters/east-1: network net-a, region eu-west, ready true
	// watched /meshfed/v1/clusters/east-1: ready false
}

// freeAddress is a loopback address with a port free a moment ago.
func freeAddress() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer func() { _ = l.Close() }()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
