// Package perf runs upstream scheduler_perf (the harness in
// k8s.io/kubernetes/test/integration/scheduler_perf) on Placer's own test
// cases, config/performance-config.yaml, with every plugin placer-scheduler
// carries registered: Placer's plugins measured by Kubernetes' own
// benchmark, beside upstream's default profile. It needs an etcd binary on
// PATH and takes minutes to hours, so make test leaves it out; `make
// perf-upstream` builds bin/etcd and runs it, `make perf-upstream-smoke` runs
// the small workloads. docs/upstream.md has the details.
package perf

import (
	"fmt"
	"os"
	"testing"

	_ "k8s.io/component-base/logs/json/register"
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"

	"github.com/placer-dev/placer/pkg/registry"
)

func TestMain(m *testing.M) {
	// scheduler_perf resolves a config's paths against the working
	// directory, its test directory upstream: here, the config's.
	if err := os.Chdir("config"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := perf.InitTests(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// BenchmarkPerfScheduling is scheduler_perf's benchmark over Placer's test
// cases. Select with -bench BenchmarkPerfScheduling/<case>/<workload> and
// -perf-scheduling-label-filter (default: performance); results go to the
// DataItems JSON file in -data-items-dir.
func BenchmarkPerfScheduling(b *testing.B) {
	perf.RunBenchmarkPerfScheduling(b, "performance-config.yaml", "placer", registry.All(), perf.WithPrepareFn(fillOwnerUIDs))
}
