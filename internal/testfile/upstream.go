package testfile

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SchedulerPerfDir is upstream's test/integration/scheduler_perf in the
// k8s.io/kubernetes module this build uses, whose performance-config files
// tests read as users' inputs. It fails t when the module is not in the
// module cache: the tests would otherwise skip what they exist to check.
func SchedulerPerfDir(t testing.TB) string {
	t.Helper()
	// go test runs in the package's folder, inside this module.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m k8s.io/kubernetes: the module is not downloaded (%v)", err)
	}
	return filepath.Join(dir, "test", "integration", "scheduler_perf")
}
