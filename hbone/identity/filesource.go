package identity

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often a FileSource checks its files for changes.
const DefaultReloadInterval = 2 * time.Second

// FileSource is a Source backed by PEM files (certificate chain, key, CA bundle) that reloads
// when their contents change, as cert-manager and SPIRE rotate them. A change that does not
// load (half-written files, a key that does not match) keeps the previous Material.
type FileSource struct {
	certFile, keyFile, caFile string

	current atomic.Pointer[Material]
	mu      sync.Mutex // serializes Reload
	last    [3][]byte  // file contents behind current
	log     *slog.Logger
}

// NewFileSource loads the three files once and fails if they do not form valid Material.
func NewFileSource(certFile, keyFile, caFile string, log *slog.Logger) (*FileSource, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &FileSource{certFile: certFile, keyFile: keyFile, caFile: caFile, log: log}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Material returns the most recently loaded Material.
func (s *FileSource) Material() *Material { return s.current.Load() }

// Reload reads the files and swaps in new Material if their contents changed. It reports
// whether the Material changed.
func (s *FileSource) Reload() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var contents [3][]byte
	for i, name := range []string{s.certFile, s.keyFile, s.caFile} {
		b, err := os.ReadFile(name)
		if err != nil {
			return false, fmt.Errorf("failed to read credential file %s: %w", name, err)
		}
		contents[i] = b
	}
	if s.current.Load() != nil && sameContents(contents, s.last) {
		return false, nil
	}
	m, err := NewMaterial(contents[0], contents[1], contents[2])
	if err != nil {
		return false, fmt.Errorf("failed to load credentials %s: %w", s.certFile, err)
	}
	s.current.Store(m)
	s.last = contents
	return true, nil
}

// Run polls the files every interval (DefaultReloadInterval if zero) until ctx ends.
func (s *FileSource) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := s.Reload()
		switch {
		case err != nil:
			s.log.Warn("Keeping previous credentials", "cert", s.certFile, "error", err)
		case changed:
			m := s.Material()
			s.log.Info("Reloaded credentials", "cert", s.certFile, "id", m.ID.String(), "serial", m.Certificate.Leaf.SerialNumber.Text(16), "notAfter", m.Certificate.Leaf.NotAfter)
		}
	}
}

func sameContents(a, b [3][]byte) bool {
	return bytes.Equal(a[0], b[0]) && bytes.Equal(a[1], b[1]) && bytes.Equal(a[2], b[2])
}
