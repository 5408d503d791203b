// Package secretvol writes a directory the way the kubelet projects a Secret volume, so that
// tests exercise the reload of credential files as Kubernetes really swaps them: the files are
// symbolic links to ..data/<name>, ..data is a symbolic link to a timestamped directory, and an
// update writes a new timestamped directory and renames a new ..data link over the old one,
// which swaps every file at once, then removes the old directory.
package secretvol

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

const dataLink = "..data"

// Write makes dir (created if missing) hold files, swapping them all at once.
func Write(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create directory %s: %w", dir, err)
	}
	old, _ := os.Readlink(filepath.Join(dir, dataLink))
	ts := ".." + time.Now().UTC().Format("2006_01_02_15_04_05.") + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
		return fmt.Errorf("failed to create directory %s: %w", ts, err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, ts, name), data, 0o644); err != nil {
			return fmt.Errorf("failed to write file %s: %w", name, err)
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(ts, tmp); err != nil {
		return fmt.Errorf("failed to link %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return fmt.Errorf("failed to swap %s: %w", dataLink, err)
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join(dataLink, name), link); err != nil {
			return fmt.Errorf("failed to link %s: %w", link, err)
		}
	}
	if old != "" && old != ts {
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			return fmt.Errorf("failed to remove %s: %w", old, err)
		}
	}
	return nil
}
