package secretvol

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSwapsAtomically(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"one", "two", "three"} {
		if err := Write(dir, map[string][]byte{"tls.crt": []byte(v + "-cert"), "tls.key": []byte(v + "-key")}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"tls.crt", "tls.key"} {
			got, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil || string(got) != v+"-"+map[string]string{"tls.crt": "cert", "tls.key": "key"}[f] {
				t.Fatalf("%s = %q, %v; want %s's", f, got, err, v)
			}
			if fi, err := os.Lstat(filepath.Join(dir, f)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%s is not a symbolic link: %v", f, err)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 4 { // ..<timestamp>, ..data, tls.crt, tls.key
			t.Fatalf("directory holds %d entries after the swap, want 4 (old data removed)", len(entries))
		}
	}
}
