package main

import (
	"os"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/session"
)

// TestMain lets the test binary stand in for placer-bench where a session
// starts a run's process (os.Executable() run-profile --spec FILE), so that
// a test can drive a command through the real code path, runs in processes
// of their own included.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == session.ChildCommand {
		main()
	}
	os.Exit(m.Run())
}
