// Package testfile writes the small files tests read back: a config, a
// dump, a /proc file's stand-in. Tests that only need a file on disk call
// it instead of each repeating the write and its error check.
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
