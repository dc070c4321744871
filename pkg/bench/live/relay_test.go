package live

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Events relayed through a pipe, as a profile's process sends them to the
// parent, land in the parent's metrics as if observed there.
func TestRelayReplay(t *testing.T) {
	rd, wr := io.Pipe()
	relay := NewRelay(wr)
	go func() {
		relay.OpStarted(0, "createWorkloads")
		relay.PodCreated()
		relay.PodCreated()
		relay.PodBound(1500 * time.Millisecond)
		relay.PodUnschedulable()
		relay.Finished()
		wr.Close()
	}()
	m := New()
	m.StartProfile("placer")
	if err := m.Replay(rd); err != nil {
		t.Fatal(err)
	}
	want := podCounts("placer", 2, 1, 1) + `# HELP placer_bench_phase 1 for the op now running (profile, index in ops, op), 0 for those done.
# TYPE placer_bench_phase gauge
placer_bench_phase{index="0",op="createWorkloads",profile="placer"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "placer_bench_pods_created_total",
		"placer_bench_pods_scheduled_total", "placer_bench_pods_unschedulable_total", "placer_bench_phase"); err != nil {
		t.Error(err)
	}
	if err := m.Replay(strings.NewReader("gossip\n")); err == nil || !strings.Contains(err.Error(), `unknown line "gossip"`) {
		t.Errorf("unknown line: %v", err)
	}
}
