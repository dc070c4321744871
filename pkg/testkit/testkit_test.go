package testkit_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/testkit"
)

// onlyLabelled is an out-of-tree Filter plugin of the test's own: nodes
// without allowed=yes are rejected, with a reason of its own.
type onlyLabelled struct{}

const onlyLabelledReason = "node lacks allowed=yes"

func (onlyLabelled) Name() string { return "OnlyLabelled" }

func (onlyLabelled) Filter(_ context.Context, _ fwk.CycleState, _ *v1.Pod, ni fwk.NodeInfo) *fwk.Status {
	if ni.Node().Labels["allowed"] != "yes" {
		return fwk.NewStatus(fwk.Unschedulable, onlyLabelledReason)
	}
	return nil
}

var testRegistry = frameworkruntime.Registry{"OnlyLabelled": func(context.Context, runtime.Object, framework.Handle) (framework.Plugin, error) {
	return onlyLabelled{}, nil
}}

const testConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: kit
  plugins:
    multiPoint: {enabled: [{name: OnlyLabelled}]}
`

// res is what a pod asks for: cpu and 1Gi.
func res(cpu string) v1.ResourceList {
	return v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse("1Gi")}
}

// capacity is a node's: cpu and 64Gi.
func capacity(cpu string) v1.ResourceList {
	return v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse("64Gi")}
}

func names(ps testkit.Placements) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestEnvOnMemory drives every Env operation against the in-memory API with
// the test's own plugin registry: what a plugin author's test does, without
// an API server, so it runs with the unit tests.
func TestEnvOnMemory(t *testing.T) {
	env := testkit.Start(t, testkit.Options{
		Backend:    testkit.Memory,
		Registry:   testRegistry,
		ConfigYAML: []byte(testConfig),
		Cluster: workload.Cluster{Zones: workload.Zones{"zone-a", "zone-b", "zone-c"}, NodeGroups: []workload.NodeGroup{
			{Name: "allowed", Count: workload.N(3), Capacity: capacity("4"), Labels: map[string]string{"allowed": "yes"}},
			{Name: "other", Count: workload.N(3), Capacity: capacity("4")},
		}},
	})
	if env.SchedulerName != "kit" || env.Scheduler == nil || env.ControlPlane != nil {
		t.Fatalf("scheduler name %q, in-process %v, control plane %v", env.SchedulerName, env.Scheduler != nil, env.ControlPlane != nil)
	}
	if got := len(env.Nodes()); got != 6 {
		t.Fatalf("%d nodes, want 6", got)
	}

	web := env.Create(workload.Workload{Name: "web", Kind: workload.KindDeployment, Replicas: workload.N(6), Pod: workload.PodShape{Requests: res("500m")}})
	db := env.Create(workload.Workload{Name: "db", Kind: workload.KindStatefulSet, Replicas: workload.N(3), Pod: workload.PodShape{Requests: res("500m")}})
	if web.Spec.Namespace != "bench" || web.Spec.Count.Value != 1 {
		t.Errorf("web not defaulted as in a workload file: %+v", web.Spec)
	}
	placed := env.WaitScheduled()
	if len(placed) != 9 {
		t.Fatalf("WaitScheduled() returned %d placements, want 9 (web and db)", len(placed))
	}
	for _, p := range placed {
		if !strings.HasPrefix(p.Node, "allowed-") {
			t.Errorf("%s on %s: the registry's filter plugin did not run", p.Name, p.Node)
		}
	}
	if got := placed.Of("db"); !slices.Equal(names(got), []string{"db-0", "db-1", "db-2"}) || got[2].Ordinal == nil || *got[2].Ordinal != 2 || got[2].OwnerKind != "StatefulSet" {
		t.Errorf("db placements %+v", got)
	}
	if got := placed.Of("web"); len(got) != 6 || got[0].OwnerKind != "Deployment" || got[0].Zone == "" {
		t.Errorf("web placements %+v", got)
	}

	// A pod no node can take: the reasons of every plugin that said no. 4
	// cpus fit only on the other nodes, which the test's plugin rejects.
	huge := env.Create(workload.Workload{Name: "huge", Kind: workload.KindPod, Pod: workload.PodShape{Requests: res("4")}})
	p := env.WaitSettled(huge)[0]
	if p.Name != "huge-0" || p.Bound() || !p.Unschedulable || !strings.Contains(p.Reason, onlyLabelledReason) || !strings.Contains(p.Reason, "Insufficient cpu") {
		t.Errorf("huge: %+v; want unschedulable, naming %q and Insufficient cpu", p, onlyLabelledReason)
	}

	// Scale up adds the next ordinals, scale down removes the highest.
	db.Scale(5)
	if got := env.WaitScheduled(db); !slices.Equal(names(got), []string{"db-0", "db-1", "db-2", "db-3", "db-4"}) {
		t.Errorf("db at 5: %v", names(got))
	}
	db.Scale(2)
	if got := env.Placements().Of("db"); !slices.Equal(names(got), []string{"db-0", "db-1"}) {
		t.Errorf("db at 2: %v", names(got))
	}
	// A StatefulSet replica comes back under its name, a Deployment's pod
	// under a new one.
	if got := db.Replace("db-1"); got != "db-1" {
		t.Errorf("replaced db-1 is %s", got)
	}
	old := web.Pods()[0].Name
	if got := web.Replace(old); got == old || !strings.HasPrefix(got, strings.TrimRight(old, "bcdfghjklmnpqrstvwxz2456789")) {
		t.Errorf("replaced %s is %s, want a new name from the same ReplicaSet", old, got)
	}
	if got := env.WaitScheduled(db, web); len(got) != 8 {
		t.Errorf("after replacements %d placements, want 8", len(got))
	}

	// Cordon returns once the scheduler has seen it, and AddNodes once the
	// new node is in its cache: the huge pod, waiting, now fits, and only
	// there.
	for _, n := range []string{"allowed-0", "allowed-1", "allowed-2"} {
		env.Cordon(n)
	}
	env.AddNodes(workload.NodeGroup{Name: "big", Count: workload.N(1), Capacity: capacity("128"), Labels: map[string]string{"allowed": "yes"}})
	if p := env.WaitScheduled(huge)[0]; p.Node != "big-0" || p.Zone != "zone-a" {
		t.Errorf("huge went to %s in %s, want big-0 in zone-a", p.Node, p.Zone)
	}
	// 4 of big-0's 128 cpus.
	if u := env.Utilization(v1.ResourceCPU)["big-0"]; u != 4.0/128 {
		t.Errorf("big-0 cpu utilisation %v, want 4/128", u)
	}
	more := env.Create(workload.Workload{Name: "more", Kind: workload.KindDeployment, Replicas: workload.N(4), Pod: workload.PodShape{Requests: res("500m")}})
	for _, p := range env.WaitScheduled(more) {
		if p.Node != "big-0" {
			t.Errorf("%s placed on %s, want big-0: the others are cordoned or rejected", p.Name, p.Node)
		}
	}

	web.Delete()
	if got := env.Placements().Of("web"); len(got) != 0 {
		t.Errorf("web deleted, still has pods %v", names(got))
	}
	if got := len(env.Placements()); got != 2+1+4 {
		t.Errorf("%d pods left, want db 2, huge 1, more 4", got)
	}
}
