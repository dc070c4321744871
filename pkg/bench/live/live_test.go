package live

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/sim"
)

// A run with the metrics as its observer: every pod counted once, every
// bound pod's latency observed, the last op marked done; /metrics serves it.
func TestMetricsFollowARun(t *testing.T) {
	f, err := workload.Parse([]byte(`apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: live
seed: 1
cluster:
  zones: 2
  nodeGroups: [{name: node, count: 2, capacity: {cpu: "4", memory: 8Gi}}]
workloads:
- {name: web, kind: Deployment, replicas: 5, pod: {requests: {cpu: 100m}}}
- {name: huge, kind: Pod, replicas: 2, pod: {requests: {cpu: "64"}}}
ops: [{op: createNodes}, {op: createWorkloads}, {op: barrier, until: Attempted}]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := runner.ResolveProfile("default")
	backend, _ := sim.NewBackend(ctx, sim.BackendMemory, "")
	defer backend.Close()
	m.StartProfile(profile.Name)
	if _, err := runner.Run(ctx, f, profile, backend, runner.Options{RunID: "live", Observer: m}); err != nil {
		t.Fatal(err)
	}
	want := podCounts("default", 7, 5, 2)
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"placer_bench_pods_created_total", "placer_bench_pods_scheduled_total", "placer_bench_pods_unschedulable_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.latency); n != 1 {
		t.Errorf("latency series %d, want 1", n)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		`placer_bench_pod_scheduling_latency_seconds_count{profile="default"} 5`,
		`placer_bench_phase{index="2",op="barrier",profile="default"} 0`,
		`placer_bench_phase{index="0",op="createNodes",profile="default"} 0`,
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// podCounts is the exposition of the pod counters of profile, the leading
// newline included, as testutil.GatherAndCompare expects it.
func podCounts(profile string, created, scheduled, unschedulable int) string {
	return fmt.Sprintf(`
# HELP placer_bench_pods_created_total Pods the harness created, by scheduler profile.
# TYPE placer_bench_pods_created_total counter
placer_bench_pods_created_total{profile=%[1]q} %[2]d
# HELP placer_bench_pods_scheduled_total Pods the harness saw bound to a node, by scheduler profile.
# TYPE placer_bench_pods_scheduled_total counter
placer_bench_pods_scheduled_total{profile=%[1]q} %[3]d
# HELP placer_bench_pods_unschedulable_total Pods the scheduler found unschedulable (counted once per pod), by scheduler profile.
# TYPE placer_bench_pods_unschedulable_total counter
placer_bench_pods_unschedulable_total{profile=%[1]q} %[4]d
`, profile, created, scheduled, unschedulable)
}
