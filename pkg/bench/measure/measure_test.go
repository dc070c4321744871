package measure

import (
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// recorder is an Observer that counts what it hears.
type recorder struct {
	mu                             sync.Mutex
	ops                            []string
	finished, created, unscheduled int
	latencies                      []time.Duration
}

func (o *recorder) OpStarted(_ int, op string) { o.mu.Lock(); o.ops = append(o.ops, op); o.mu.Unlock() }
func (o *recorder) Finished()                  { o.mu.Lock(); o.finished++; o.mu.Unlock() }
func (o *recorder) PodCreated()                { o.mu.Lock(); o.created++; o.mu.Unlock() }
func (o *recorder) PodUnschedulable()          { o.mu.Lock(); o.unscheduled++; o.mu.Unlock() }
func (o *recorder) PodBound(latency time.Duration) {
	o.mu.Lock()
	o.latencies = append(o.latencies, latency)
	o.mu.Unlock()
}

func pod(ns, name string, uid types.UID, node string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid}, Spec: v1.PodSpec{NodeName: node,
		Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m")}}}}}}
}

func unschedulable(p *v1.Pod, message string) *v1.Pod {
	p = p.DeepCopy()
	p.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonUnschedulable, Message: message}}
	return p
}

// TestTrackerTellsObserverOnce: whether the create call or the watch event
// comes first, each pod is heard of as created once and bound once, with
// its latency from the create call; a pod found unschedulable twice is
// counted once.
func TestTrackerTellsObserverOnce(t *testing.T) {
	obs := &recorder{}
	tr := NewTracker(obs)
	t0 := time.Unix(1000, 0)
	// Created, then seen bound.
	tr.Created("a", t0, true)
	tr.Observe(pod("ns", "a", "a", ""), t0.Add(time.Second))
	tr.Observe(pod("ns", "a", "a", "n1"), t0.Add(2*time.Second))
	tr.Observe(pod("ns", "a", "a", "n1"), t0.Add(3*time.Second))
	// Seen bound before its create call returned.
	tr.Observe(pod("ns", "b", "b", "n2"), t0.Add(5*time.Second))
	tr.Created("b", t0.Add(4*time.Second), false)
	// Unschedulable twice, never bound.
	tr.Created("c", t0, true)
	tr.Observe(unschedulable(pod("ns", "c", "c", ""), "no room"), t0.Add(time.Second))
	tr.Observe(unschedulable(pod("ns", "c", "c", ""), "still no room"), t0.Add(2*time.Second))
	// A pod the harness did not create: watched, never counted.
	tr.Observe(pod("ns", "d", "d", "n1"), t0)
	tr.Forget("a")

	if obs.created != 3 || obs.unscheduled != 1 {
		t.Errorf("heard %d created, %d unschedulable; want 3 and 1", obs.created, obs.unscheduled)
	}
	if want := []time.Duration{2 * time.Second, time.Second}; !reflect.DeepEqual(obs.latencies, want) {
		t.Errorf("bound latencies %v, want %v", obs.latencies, want)
	}
	if created, bound, unsched := tr.Progress(); created != 3 || bound != 2 || unsched != 1 {
		t.Errorf("progress %d created, %d bound, %d unschedulable; want 3, 2, 1", created, bound, unsched)
	}
	a, _ := tr.Record("a")
	if !a.Deleted || a.Node != "n1" || !a.Bound.Equal(t0.Add(2*time.Second)) {
		t.Errorf("record a: %+v; want deleted, on n1, bound at the first event that saw it bound", a)
	}
	c, _ := tr.Record("c")
	if !c.Unschedulable || c.Reason != "still no room" {
		t.Errorf("record c: unschedulable %v, reason %q; want the last reason", c.Unschedulable, c.Reason)
	}
	if n := len(tr.Records()); n != 3 {
		t.Errorf("%d records, want the 3 pods the harness created", n)
	}
	if _, ok := tr.RecordsByUID()["d"]; ok {
		t.Error("RecordsByUID lists a pod the harness did not create")
	}
	// Found unschedulable, then bound: it moves from one count to the other.
	tr.Observe(pod("ns", "c", "c", "n3"), t0.Add(9*time.Second))
	if created, bound, unsched := tr.Progress(); created != 3 || bound != 3 || unsched != 0 {
		t.Errorf("after c was bound: progress %d created, %d bound, %d unschedulable; want 3, 3, 0", created, bound, unsched)
	}
}

// TestSummaryFromFirstMeasured: throughput from From to the last bind of a
// measured pod; latency over the measured pods that were bound; outcomes
// over all.
func TestSummaryFromFirstMeasured(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var recs []Record
	// Measured pods bound at 1.5 s, 2.5 s, 2.6 s, 4.5 s after t0.
	for i, after := range []time.Duration{1500, 2500, 2600, 4500} {
		p := pod("ns", string(rune('a'+i)), types.UID(rune('a'+i)), "n1")
		recs = append(recs, Record{Created: t0.Add(500 * time.Millisecond), Measured: true, Bound: t0.Add(after * time.Millisecond), Node: "n1", Pod: p})
	}
	// Not measured: bound much later, it must not stretch the timeline.
	recs = append(recs, Record{Created: t0, Bound: t0.Add(time.Minute), Node: "n1", Pod: pod("ns", "late", "late", "n1")},
		Record{Created: t0, Measured: true, Unschedulable: true, Reason: "no room", Pod: pod("ns", "stuck", "stuck", "")})
	res := &result.Result{}
	Summary{From: t0, Zones: map[string]string{"n1": "zone-a"}}.summarize(res, recs)

	if res.Pods != 6 || res.Scheduled != 5 || res.Unschedulable != 1 {
		t.Errorf("pods %d, scheduled %d, unschedulable %d; want 6, 5, 1", res.Pods, res.Scheduled, res.Unschedulable)
	}
	// Ticks at 1..5 s: the first that sees a bind (2 s) only starts; 3 s
	// sees 2 more; 4 s none; 5 s one more, over the 2 s since 3 s.
	if want := []float64{2, 0.5, 0.5}; !reflect.DeepEqual(res.ThroughputTimeline, want) {
		t.Errorf("timeline %v, want %v", res.ThroughputTimeline, want)
	}
	if res.Throughput.Count != 3 || res.Latency.Count != 4 || len(res.LatencyCDF) != 101 {
		t.Errorf("throughput over %d samples, latency over %d pods, CDF of %d points; want 3, 4, 101", res.Throughput.Count, res.Latency.Count, len(res.LatencyCDF))
	}
	if res.LatencyCDF[0] != 1 || res.LatencyCDF[100] != 4 {
		t.Errorf("latency CDF from %g s to %g s, want 1 s to 4 s", res.LatencyCDF[0], res.LatencyCDF[100])
	}
	if pl := res.Placements(); len(pl) != 6 || pl[0].Zone != "zone-a" || pl[len(pl)-1].Name != "stuck" || !pl[len(pl)-1].Unschedulable {
		t.Errorf("placements %+v", pl)
	}
}

// TestSummaryUntilTheBarrier: a measured pod bound only after the barrier
// that waited for the measured pods (a later op freed room for it) counts
// as scheduled and in latency, but not in throughput: the timeline is the
// one without it.
func TestSummaryUntilTheBarrier(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var recs []Record
	for i, after := range []time.Duration{1500, 2500, 2600, 4500, 40000} {
		p := pod("ns", string(rune('a'+i)), types.UID(rune('a'+i)), "n1")
		recs = append(recs, Record{Created: t0.Add(500 * time.Millisecond), Measured: true, Bound: t0.Add(after * time.Millisecond), Node: "n1", Pod: p})
	}
	res := &result.Result{}
	Summary{From: t0, Until: t0.Add(5 * time.Second)}.summarize(res, recs)
	if want := []float64{2, 0.5, 0.5}; !reflect.DeepEqual(res.ThroughputTimeline, want) {
		t.Errorf("timeline %v, want %v (the bind at 40 s left out)", res.ThroughputTimeline, want)
	}
	// 4 pods from 0 s to the last bind counted, at 4.5 s.
	if got, want := res.Throughput.Average, 4/4.5; math.Abs(got-want) > 1e-9 {
		t.Errorf("average %v, want %v", got, want)
	}
	if res.Scheduled != 5 || res.Latency.Count != 5 {
		t.Errorf("scheduled %d, latency over %d pods; want 5 and 5", res.Scheduled, res.Latency.Count)
	}
}

// A measured phase over before a second sampling tick has one sample: its
// pods over the time from the first creation to the last bind.
func TestSummaryShortPhaseHasItsOverallRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var recs []Record
	for i, after := range []time.Duration{200, 400, 600, 800} {
		p := pod("ns", string(rune('a'+i)), types.UID(rune('a'+i)), "n1")
		recs = append(recs, Record{Created: t0, Measured: true, Bound: t0.Add(after * time.Millisecond), Node: "n1", Pod: p})
	}
	res := &result.Result{}
	Summary{From: t0}.summarize(res, recs)
	if want := []float64{5}; !reflect.DeepEqual(res.ThroughputTimeline, want) || res.Throughput.Average != 5 {
		t.Errorf("timeline %v, average %v; want %v: 4 pods in 0.8 s", res.ThroughputTimeline, res.Throughput.Average, want)
	}
}

// TestSummaryWindows: throughput is sampled in each window over the binds
// of the pods it covers, the windows' samples pooled in order; a bind
// outside every window, or of a pod no window covers, counts in none.
func TestSummaryWindows(t *testing.T) {
	t0 := time.Unix(1000, 0)
	bind := func(ns string, i int, after time.Duration) Record {
		name := ns + string(rune('a'+i))
		return Record{Created: t0, Bound: t0.Add(after), Node: "n1", Pod: pod(ns, name, types.UID(name), "n1")}
	}
	in := func(ns string) func(*v1.Pod) bool { return func(p *v1.Pod) bool { return p.Namespace == ns } }
	recs := []Record{
		// First window, 0–3 s over namespace m1: binds at 0.5 s, 1.5 s, 1.6 s, 2.5 s.
		bind("m1", 0, 500*time.Millisecond), bind("m1", 1, 1500*time.Millisecond), bind("m1", 2, 1600*time.Millisecond), bind("m1", 3, 2500*time.Millisecond),
		// Another namespace, in the first window's time: not covered.
		bind("other", 0, 1200*time.Millisecond), bind("other", 1, 2200*time.Millisecond),
		// m1 bound between the windows: in neither.
		bind("m1", 4, 5*time.Second),
		// Second window, 10–13 s over m2: binds at 10.5 s, 11.5 s, 12.5 s, 12.6 s.
		bind("m2", 0, 10500*time.Millisecond), bind("m2", 1, 11500*time.Millisecond), bind("m2", 2, 12500*time.Millisecond), bind("m2", 3, 12600*time.Millisecond),
	}
	res := &result.Result{}
	Summary{
		// From is ignored when there are windows.
		From: t0,
		Windows: []Window{
			{Start: t0, End: t0.Add(3 * time.Second), Covers: in("m1")},
			{Start: t0.Add(10 * time.Second), End: t0.Add(13 * time.Second), Covers: in("m2")},
		},
	}.summarize(res, recs)
	// Window 1: ticks 1 s (1 bound: start), 2 s (3: 2/s), 3 s (4: 1/s).
	// Window 2: ticks 11 s (1: start), 12 s (2: 1/s), 13 s (4: 2/s).
	if want := []float64{2, 1, 1, 2}; !reflect.DeepEqual(res.ThroughputTimeline, want) {
		t.Errorf("timeline %v, want %v", res.ThroughputTimeline, want)
	}
	if res.Throughput.Count != 4 || res.Throughput.Average != 1.5 {
		t.Errorf("throughput %+v, want the 4 pooled samples, average 1.5", res.Throughput)
	}
}

// TestPlacementsAndQuality: pods count under the workload users know,
// with their zone, ordinal and requests; the nodes given are those the
// final placement is judged on, deleted pods left out.
func TestPlacementsAndQuality(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ctrl := true
	web := pod("apps", "web-1", "w1", "n1")
	web.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc", Controller: &ctrl}}
	web.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "abc"}
	db := pod("apps", "db-0", "d0", "n2")
	db.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", Controller: &ctrl}}
	db.Labels = map[string]string{appsv1.PodIndexLabel: "0"}
	gone := pod("apps", "db-1", "d1", "n1")
	recs := []Record{
		{Created: t0, Bound: t0, Node: "n2", Pod: db},
		{Created: t0, Bound: t0, Node: "n1", Pod: web},
		{Created: t0, Bound: t0, Node: "n1", Pod: gone, Deleted: true},
		// Created but never seen by the watch: nothing to place.
		{Created: t0},
	}
	cpu := v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}
	sum := Summary{Zones: map[string]string{"n1": "zone-a", "n2": "zone-b"},
		Nodes: []quality.Node{{Name: "n1", Zone: "zone-a", Allocatable: cpu}, {Name: "n2", Zone: "zone-b", Allocatable: cpu}}}
	res := &result.Result{}
	sum.summarize(res, recs)
	pl := res.Placements()
	if len(pl) != 3 {
		t.Fatalf("%d placements, want 3: %+v", len(pl), pl)
	}
	if p := pl[0]; p.Name != "db-0" || p.OwnerKind != "StatefulSet" || p.OwnerName != "db" || p.Ordinal == nil || *p.Ordinal != 0 || p.Zone != "zone-b" {
		t.Errorf("db-0: %+v", p)
	}
	if p := pl[1]; p.Name != "db-1" || !p.Deleted {
		t.Errorf("db-1: %+v, want deleted", p)
	}
	if p := pl[2]; p.OwnerKind != "Deployment" || p.OwnerName != "web" || p.Requests.Cpu().MilliValue() != 500 {
		t.Errorf("web-1: %+v, want Deployment web asking for 500m", p)
	}
	q := res.Quality
	if q.Outcomes.Bound != 2 || q.Packing.Nodes != 2 || q.Packing.NodesInUse != 2 || len(q.Packing.Resources) != 1 || q.Packing.Resources[0].RequestedOfCapacity != 0.25 {
		t.Errorf("quality %+v; want 2 bound on 2 nodes, a quarter of the cpu requested", q)
	}
}
