package runner

import (
	"context"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/sim"
)

var small = head("small", 3, 3) + `  nodeGroups:
  - name: nodes
    count: 12
    capacity: {cpu: "8", memory: 32Gi}
workloads:
- name: web
  kind: Deployment
  count: 3
  replicas: 7
  pod: {requests: {cpu: 250m, memory: 256Mi}}
- name: db
  kind: StatefulSet
  replicas: 5
  pod: {requests: {cpu: "1", memory: 1Gi}}
- name: huge
  kind: Pod
  replicas: 2
  pod: {requests: {cpu: "64"}}
ops:
- op: createNodes
- op: createWorkloads
- op: barrier
  until: Attempted
- op: delete
  workloads: [web]
`

func TestRunOnMemoryBackend(t *testing.T) {
	for _, spec := range []string{"default", "placer"} {
		t.Run(spec, func(t *testing.T) {
			res, backend := runMemory(t, small, spec)
			// 21 web + 5 db fit; the 2 pods asking for 64 cpus fit nowhere.
			if res.Pods != 28 || res.Scheduled != 26 || res.Unschedulable != 2 {
				t.Errorf("pods %d scheduled %d unschedulable %d, want 28 26 2", res.Pods, res.Scheduled, res.Unschedulable)
			}
			// No op says measure: every scheduled pod is measured.
			if res.Latency.Count != 26 || res.Latency.Min < 0 || res.Latency.Max < res.Latency.Perc50 {
				t.Errorf("latency %+v", res.Latency)
			}
			if len(res.Phases) != 4 || res.Phases[2].Op != "barrier" || res.Phases[2].TimedOut {
				t.Errorf("phases %+v", res.Phases)
			}
			if res.PeakHeap == 0 || res.PeakRSS == 0 {
				t.Errorf("peak heap %d rss %d", res.PeakHeap, res.PeakRSS)
			}
			// The scheduler's own histograms, for this profile only.
			var attempts, filters uint64
			for _, h := range res.Scheduler {
				switch {
				case h.Metric == "scheduler_scheduling_attempt_duration_seconds" && h.Labels["result"] == "scheduled":
					attempts = h.Count
				case h.Metric == "scheduler_framework_extension_point_duration_seconds" && h.Labels["extension_point"] == "Filter":
					filters = h.Count
				}
			}
			if attempts != 26 || filters == 0 {
				t.Errorf("scheduled attempts %d (want 26), Filter observations %d; histograms %+v", attempts, filters, res.Scheduler)
			}
			// Pods went to the harness's own scheduler name for the profile.
			// web was deleted by the last op; the 7 pods left ask for the
			// profile's own scheduler name.
			pods, err := backend.Client().CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
			if err != nil || len(pods.Items) != 7 {
				t.Fatalf("pods left: %d (%v), want 7", len(pods.Items), err)
			}
			for _, pod := range pods.Items {
				if pod.Spec.SchedulerName != "placer-bench-"+spec {
					t.Fatalf("pod %s asks for %q", pod.Name, pod.Spec.SchedulerName)
				}
			}
			if len(res.Placements()) != 28 {
				t.Errorf("%d placements, want every pod the run created, 28", len(res.Placements()))
			}
		})
	}
}

func TestResolveProfileErrors(t *testing.T) {
	if _, err := ResolveProfile("/no/such/file.yaml"); err == nil || !strings.Contains(err.Error(), "--profile /no/such/file.yaml") {
		t.Errorf("got %v", err)
	}
	if _, err := sim.NewBackend(context.Background(), "cloud", ""); err == nil || !strings.Contains(err.Error(), `--backend "cloud"`) {
		t.Errorf("got %v", err)
	}
}

func TestOnlyMeasuredPodsCount(t *testing.T) {
	text := strings.Replace(strings.Replace(small,
		"- op: createWorkloads\n", "- op: createWorkloads\n  workloads: [web, huge]\n- op: createWorkloads\n  workloads: [db]\n  measure: true\n", 1),
		"  until: Attempted\n", "  until: Attempted\n", 1)
	res := runFile(t, text, "default")
	if res.Pods != 28 || res.Scheduled != 26 || res.Latency.Count != 5 {
		t.Errorf("pods %d scheduled %d measured latencies %d, want 28 26 5", res.Pods, res.Scheduled, res.Latency.Count)
	}
}

func TestScaleAndChurn(t *testing.T) {
	text := head("scale", 5, 3) + sixNodes + `workloads:
- {name: web, kind: Deployment, replicas: 4, pod: {requests: {cpu: 100m}}}
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: 100m}}, volumeClaims: [{name: data, storageClassName: zonal, size: 1Gi}]}
ops:
- op: createNodes
- op: createWorkloads
  workloads: [web]
- op: barrier
- op: scale
  workload: web
  replicas: 6
- op: scale
  workload: db
  replicas: 0
- op: churn
  workload: web
  pods: 2
  rounds: 2
  interval: 10ms
- op: barrier
- op: scale
  workload: web
  replicas: 3
`
	// db was never created: scaling it is a no-op, not an error.
	res, backend := runMemory(t, text, "default")
	// 4 created + 2 by scale-up + 4 churn replacements = 10 pods made, all bound.
	if res.Pods != 10 || res.Scheduled != 10 {
		t.Errorf("pods %d scheduled %d, want 10 10", res.Pods, res.Scheduled)
	}
	ctx := context.Background()
	pods, _ := backend.Client().CoreV1().Pods("bench").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 3 {
		t.Errorf("%d web pods left after scaling to 3", len(pods.Items))
	}
	if got := specReplicas(t, backend, "Deployment", "web"); got != 3 {
		t.Errorf("deployment replicas %d, want 3", got)
	}
}

// sixNodes is the node group of the scale tests: room for every replica
// they scale to, in the three zones head gives them.
const sixNodes = `  nodeGroups: [{name: nodes, count: 6, capacity: {cpu: "16", memory: 64Gi}}]
`

// specReplicas is the replicas a scale op left in a workload's spec, read
// from the backend; a missing object fails the test rather than panicking
// on its nil spec.
func specReplicas(t *testing.T, backend sim.Backend, kind, name string) int32 {
	t.Helper()
	ctx := context.Background()
	apps := backend.Client().AppsV1()
	var replicas *int32
	switch kind {
	case "Deployment":
		d, err := apps.Deployments("bench").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		replicas = d.Spec.Replicas
	case "StatefulSet":
		ss, err := apps.StatefulSets("bench").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		replicas = ss.Spec.Replicas
	default:
		t.Fatalf("test broken: no kind %s", kind)
	}
	if replicas == nil {
		t.Fatalf("%s %s has no spec.replicas", kind, name)
	}
	return *replicas
}

func TestStatefulSetScaleKeepsIdentity(t *testing.T) {
	text := head("ss", 5, 3) + sixNodes + `workloads:
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: 100m}}}
ops:
- op: createNodes
- op: createWorkloads
- op: barrier
- op: scale
  workload: db
  replicas: 5
- op: churn
  workload: db
  pods: 2
  rounds: 1
  interval: 1ms
- op: barrier
- op: scale
  workload: db
  replicas: 2
`
	_, backend := runMemory(t, text, "default")
	ctx := context.Background()
	pods, _ := backend.Client().CoreV1().Pods("bench").List(ctx, metav1.ListOptions{})
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "db-0,db-1" {
		t.Errorf("pods after scale 3 -> 5 -> 2 with churn: %v, want db-0,db-1", names)
	}
	if got := specReplicas(t, backend, "StatefulSet", "db"); got != 2 {
		t.Errorf("statefulset replicas %d, want 2", got)
	}
}

func TestStatefulSetClaimsAreProvisionedInThePodsZone(t *testing.T) {
	text := head("claims", 2, 3) + sixNodes + `workloads:
- name: db
  kind: StatefulSet
  count: 2
  replicas: 3
  pod: {requests: {cpu: 100m}}
  volumeClaims: [{name: data, storageClassName: zonal, size: 5Gi}]
ops:
- op: createNodes
- op: createWorkloads
- op: barrier
  timeout: 2m
`
	for _, spec := range []string{"default", "placer"} {
		t.Run(spec, func(t *testing.T) {
			res, backend := runMemory(t, text, spec)
			if res.Scheduled != 6 || res.Phases[2].TimedOut {
				t.Fatalf("scheduled %d of 6 (barrier timed out: %v)", res.Scheduled, res.Phases[2].TimedOut)
			}
			ctx := context.Background()
			c := backend.Client()
			for _, p := range res.Placements() {
				claim, err := c.CoreV1().PersistentVolumeClaims("bench").Get(ctx, "data-"+p.Name, metav1.GetOptions{})
				if err != nil || claim.Spec.VolumeName == "" {
					t.Fatalf("claim of %s: %v %+v", p.Name, err, claim)
				}
				pv, err := c.CoreV1().PersistentVolumes().Get(ctx, claim.Spec.VolumeName, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if zone := pv.Labels["topology.kubernetes.io/zone"]; zone != p.Zone {
					t.Errorf("%s runs in %s, its volume is in %s", p.Name, p.Zone, zone)
				}
			}
		})
	}
}

func TestPreemptionsCounted(t *testing.T) {
	text := head("preempt", 1, 1) + `  nodeGroups: [{name: one, count: 1, capacity: {cpu: "2", memory: 8Gi}}]
workloads:
- {name: low, kind: Pod, replicas: 2, pod: {requests: {cpu: "1"}, priority: 0}}
- {name: high, kind: Pod, replicas: 1, pod: {requests: {cpu: 1500m}, priority: 1000}}
ops:
- {op: createNodes}
- {op: createWorkloads, workloads: [low]}
- {op: barrier, timeout: 1m}
- {op: createWorkloads, workloads: [high]}
- {op: barrier, timeout: 1m}
`
	res := runFile(t, text, "default")
	// 1.5 cpus free only once both 1-cpu pods are gone.
	if res.Preempted != 2 || res.PreemptionAttempts < 1 || res.Scheduled != 3 {
		t.Errorf("preempted %d, attempts %d, scheduled %d; want 2, at least 1, 3", res.Preempted, res.PreemptionAttempts, res.Scheduled)
	}
}
