package http1

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// interrupts counts how often it was interrupted.
type interrupts struct{ n atomic.Int32 }

func (w *interrupts) interrupt() { w.n.Add(1) }

// TestContextCancel: Cancel closes Done, sets Err and Cause, interrupts the watchers once, and
// cancels the Context children and the standard contexts derived from it.
func TestContextCancel(t *testing.T) {
	type key struct{}
	c := NewContext(context.WithValue(t.Context(), key{}, "parent"), "k", "v")
	if c.Value("k") != "v" || c.Value(key{}) != "parent" {
		t.Fatalf("values: %v, %v", c.Value("k"), c.Value(key{}))
	}
	child := NewContext(c, nil, nil)
	std, stdCancel := context.WithCancel(c)
	defer stdCancel()
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	var w, stopped interrupts
	stop := watchContext(c, &w)
	if !watchContext(c, &stopped).stop() {
		t.Fatal("stop of a live watch reported false")
	}
	done := c.Done()
	if c.Err() != nil || c.Cause() != nil {
		t.Fatalf("before Cancel: Err %v, Cause %v", c.Err(), c.Cause())
	}
	cause := errors.New("gone")
	c.Cancel(cause)
	c.Cancel(nil)
	<-done
	if !errors.Is(c.Err(), context.Canceled) || !errors.Is(c.Cause(), cause) || !errors.Is(context.Cause(c), context.Canceled) {
		t.Fatalf("after Cancel: Err %v, Cause %v, context.Cause %v", c.Err(), c.Cause(), context.Cause(c))
	}
	if w.n.Load() != 1 || stopped.n.Load() != 0 {
		t.Fatalf("interrupts: watched %d, stopped %d", w.n.Load(), stopped.n.Load())
	}
	if stop.stop() {
		t.Fatal("stop after the context was done reported true")
	}
	<-child.Done()
	if !errors.Is(child.Cause(), cause) {
		t.Fatalf("child's cause %v", child.Cause())
	}
	select {
	case <-std.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a standard context derived from the Context was not canceled")
	}
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("context.AfterFunc did not run")
	}
	late := NewContext(c, nil, nil)
	if late.Err() == nil {
		t.Fatal("a child of a done Context is not done")
	}
	var w2 interrupts
	watchContext(late, &w2)
	if w2.n.Load() != 1 {
		t.Fatal("watching a done Context did not interrupt at once")
	}
}

// TestContextParent: a Context is canceled with a standard parent, and a child's own cancel
// leaves its parent alone and unwatches it.
func TestContextParent(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	c := NewContext(parent, nil, nil)
	child := NewContext(c, nil, nil)
	child.Cancel(nil)
	if c.Err() != nil {
		t.Fatal("a child's cancel canceled its parent")
	}
	c.mu.Lock()
	n := len(c.watchers)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d watchers left after the child's cancel", n)
	}
	cause := errors.New("shutdown")
	cancel(cause)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("not canceled with its parent")
	}
	if !errors.Is(c.Cause(), cause) {
		t.Fatalf("cause %v, want the parent's", c.Cause())
	}
	if NewContext(parent, nil, nil).Err() == nil {
		t.Fatal("a child of a done parent is not done")
	}
}

// BenchmarkContextTry is what a try's context costs: a child of a request's Context, watched
// by an exchange, ended.
func BenchmarkContextTry(b *testing.B) {
	req := NewContext(context.Background(), nil, nil)
	var w interrupts
	b.ReportAllocs()
	for b.Loop() {
		c := NewContext(req, "k", "v")
		watchContext(c, &w).stop()
		c.Cancel(nil)
	}
}
