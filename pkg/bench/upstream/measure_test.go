package upstream

import (
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// observer counts what a run tells it.
type observer struct {
	mu                              sync.Mutex
	ops                             []string
	finished, created, bound, unsch int
}

func (o *observer) OpStarted(_ int, op string) { o.mu.Lock(); o.ops = append(o.ops, op); o.mu.Unlock() }
func (o *observer) Finished()                  { o.mu.Lock(); o.finished++; o.mu.Unlock() }
func (o *observer) PodCreated()                { o.mu.Lock(); o.created++; o.mu.Unlock() }
func (o *observer) PodBound(time.Duration)     { o.mu.Lock(); o.bound++; o.mu.Unlock() }
func (o *observer) PodUnschedulable()          { o.mu.Lock(); o.unsch++; o.mu.Unlock() }

// TestRunMeasuresLikeTheRunner: an upstream-format run gets what a
// workload file's run gets: a throughput timeline, a latency CDF, the
// placement's quality judged on the nodes the run made, and an Observer
// that hears of every op and pod.
func TestRunMeasuresLikeTheRunner(t *testing.T) {
	// The window's three batches are 2 s apart, and each createPods waits
	// until its pods are bound (each batch has a namespace of its own, as
	// the wait counts every pod of the namespace): a sampling tick (one a
	// second) falls between the first batch's binds and the second's, and
	// another between the second's and the third's, so that the timeline
	// has a sample however fast the scheduler is.
	dir := writeFiles(t, map[string]string{
		"pod.yaml":  podTemplate,
		"node.yaml": nodeTemplate,
		"config.yaml": `- name: Measured
  defaultPodTemplatePath: pod.yaml
  workloadTemplate:
  - opcode: createNodes
    count: 4
    nodeTemplatePath: node.yaml
    labelNodePrepareStrategy:
      labelKey: topology.kubernetes.io/zone
      labelValues: [zone-a, zone-b]
  - opcode: createPods
    count: 3
    namespace: init
  - opcode: startCollectingMetrics
    name: measured
    namespaces: [m1, m2, m3]
  - opcode: createPods
    count: 4
    namespace: m1
  - opcode: sleep
    duration: 2s
  - opcode: createPods
    count: 4
    namespace: m2
  - opcode: sleep
    duration: 2s
  - opcode: createPods
    count: 4
    namespace: m3
  - opcode: stopCollectingMetrics
  workloads:
  - name: small
`,
	})
	plan := planOf(t, dir)
	obs := &observer{}
	res, _, _ := runOnMemory(t, plan, Options{RunID: "measured", WaitTimeout: 20 * time.Second, Observer: obs})

	if res.Pods != 15 || res.Scheduled != 15 {
		t.Fatalf("pods %d, scheduled %d; want 15 and 15", res.Pods, res.Scheduled)
	}
	if len(res.ThroughputTimeline) == 0 || res.Throughput.Count != len(res.ThroughputTimeline) {
		t.Errorf("throughput timeline %v, summary over %d samples; want samples, the summary over them", res.ThroughputTimeline, res.Throughput.Count)
	}
	if res.Latency.Count != 12 || len(res.LatencyCDF) != 101 {
		t.Errorf("latency over %d pods, CDF of %d points; want the 12 measured pods, 101 percentiles", res.Latency.Count, len(res.LatencyCDF))
	}
	q := res.Quality
	if q.Outcomes.Bound != 15 || q.Outcomes.Unschedulable != 0 {
		t.Errorf("quality outcomes %+v, want 15 bound", q.Outcomes)
	}
	// 15 pods of 100m on four 4-core nodes.
	if q.Packing.Nodes != 4 || len(q.Packing.PerNode) != 4 {
		t.Errorf("quality judged on %d nodes (%d with usage), want the run's 4", q.Packing.Nodes, len(q.Packing.PerNode))
	}
	for _, r := range q.Packing.Resources {
		if r.Resource == string(v1.ResourceCPU) && r.RequestedOfCapacity != 1.5/16 {
			t.Errorf("cpu requested of capacity %g, want 1.5 of 16 cores", r.RequestedOfCapacity)
		}
	}
	zones := map[string]int{}
	for _, p := range res.Placements() {
		zones[p.Zone]++
	}
	if zones["zone-a"]+zones["zone-b"] != 15 {
		t.Errorf("placements by zone %v, want every pod in zone-a or zone-b", zones)
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.ops) != len(plan.Steps) || obs.ops[0] != OpCreateNodes || obs.finished != 1 {
		t.Errorf("observer heard ops %v and %d finishes; want the %d steps and one", obs.ops, obs.finished, len(plan.Steps))
	}
	if obs.created != 15 || obs.bound != 15 || obs.unsch != 0 {
		t.Errorf("observer heard %d created, %d bound, %d unschedulable; want 15, 15, 0", obs.created, obs.bound, obs.unsch)
	}
}
