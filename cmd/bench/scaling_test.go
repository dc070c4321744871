package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// scaling needs an output directory and at least one run directory, and
// names a run directory it cannot read.
func TestScalingRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	code, stderr := stderrOf(t, func() int { return newScalingCommand().run(context.Background(), []string{dir}) })
	if code != 2 || !strings.Contains(stderr, "usage: placer-bench scaling OUT DIR...") {
		t.Errorf("one argument: exit %d, stderr %q; want 2 and the usage", code, stderr)
	}
	missing := filepath.Join(dir, "no-run")
	code, stderr = stderrOf(t, func() int { return newScalingCommand().run(context.Background(), []string{dir, missing}) })
	if code != 1 || !strings.Contains(stderr, "placer-bench scaling: ") || !strings.Contains(stderr, missing) {
		t.Errorf("a missing run directory: exit %d, stderr %q; want 1 naming %s", code, stderr, missing)
	}
}
