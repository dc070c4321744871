// Package testfile gives tests their input files: it writes the small ones
// they read back (a config, a dump, a /proc file's stand-in) and finds
// upstream's scheduler_perf configurations in the module cache, so that no
// test repeats the write, the lookup or their error checks.
package testfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes content to dir/name and returns the path, failing t when the
// file cannot be written: a test without its input would go on to report a
// misleading failure of the code under test.
func Write(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
