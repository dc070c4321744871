package integration

import (
	"os"
	"testing"

	"github.com/placer-dev/placer/internal/schedproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	schedproc.CleanupBuilds()
	os.Exit(code)
}
