package controlplane

import (
	"context"
	"testing"
)

// StartForTest starts a control plane for a test and stops it, removing every
// file, when the test ends, whether it passed or failed.
func StartForTest(tb testing.TB, opts Options) *ControlPlane {
	tb.Helper()
	if opts.TempDir == "" {
		opts.TempDir = tb.TempDir()
	}
	cp, err := Start(context.Background(), opts)
	if err != nil {
		tb.Fatalf("starting the control plane: %v", err)
	}
	tb.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			tb.Errorf("stopping the control plane: %v", err)
		}
	})
	return cp
}
