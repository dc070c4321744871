package preferlabel_test

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/testkit"

	"example.com/preferlabel"
)

// registry is what the scheduler under test can run beside the in-tree
// plugins: this module's plugin alone.
var registry = frameworkruntime.Registry{preferlabel.Name: preferlabel.New}

// cluster has, in each of three zones, one preferred node and one plain
// node of 4 cpus: node i of a group goes to zone i mod 3.
var cluster = workload.Cluster{
	Zones: workload.Zones{"zone-a", "zone-b", "zone-c"},
	NodeGroups: []workload.NodeGroup{
		{Name: "preferred", Count: workload.N(3), Capacity: resources("4", "16Gi"),
			Labels: map[string]string{"example.com/preferred": "true"}},
		{Name: "plain", Count: workload.N(3), Capacity: resources("4", "16Gi")},
	},
}

func resources(cpu, memory string) v1.ResourceList {
	return v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(memory)}
}

func deployment(name string, replicas int, cpu string) workload.Workload {
	return workload.Workload{Name: name, Kind: workload.KindDeployment, Replicas: workload.N(replicas),
		Pod: workload.PodShape{Requests: resources(cpu, "1Gi")}}
}

func TestPreferLabel(t *testing.T) {
	for _, backend := range []testkit.Backend{testkit.Memory, testkit.Embedded} {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel() // each Env has its own API and scheduler
			env := testkit.Start(t, testkit.Options{
				Backend:    backend,
				Registry:   registry,
				ConfigFile: "testdata/config.yaml",
				Cluster:    cluster,
			})

			// Six pods of 1 cpu fit on the preferred nodes: all go there, and
			// the default scorers still spread them, two per node and zone.
			web := env.WaitScheduled(env.Create(deployment("web", 6, "1")))
			for node, n := range web.NodeCounts("preferred-0", "preferred-1", "preferred-2") {
				if !strings.HasPrefix(node, "preferred-") || n != 2 {
					t.Errorf("web per node %v, want 2 on each preferred node and none elsewhere", web.NodeCounts())
					break
				}
			}
			if s := web.ZoneSkew(env.Zones()...); s != 0 {
				t.Errorf("web per zone %v: skew %d, want 0", web.ZoneCounts(env.Zones()...), s)
			}

			// A preference, not a filter: nine more fill the preferred nodes'
			// 12 cpus and the last three go to plain nodes.
			env.WaitScheduled(env.Create(deployment("batch", 9, "1")))
			perGroup := map[string]int{}
			for node, n := range env.Placements().NodeCounts() {
				perGroup[strings.TrimRight(node, "-0123456789")] += n
			}
			if perGroup["preferred"] != 12 || perGroup["plain"] != 3 {
				t.Errorf("pods per node group %v, want 12 preferred and 3 plain", perGroup)
			}
			for node, u := range env.Utilization(v1.ResourceCPU) {
				if strings.HasPrefix(node, "preferred-") && u != 1 {
					t.Errorf("cpu of %s %.0f%% requested, want the preferred nodes full", node, 100*u)
				}
			}

			// A pod no node can take is reported with the scheduler's reasons.
			huge := env.WaitSettled(env.Create(workload.Workload{Name: "huge", Kind: workload.KindPod,
				Pod: workload.PodShape{Requests: resources("64", "1Gi")}}))
			if p := huge[0]; !p.Unschedulable || !strings.Contains(p.Reason, "Insufficient cpu") {
				t.Errorf("huge: unschedulable %v, message %q; want Insufficient cpu", p.Unschedulable, p.Reason)
			}
		})
	}
}

// TestWithoutPreferLabel is the control: the same pods under upstream's
// default profile, without the plugin, spread over every node, so what
// TestPreferLabel sees is the plugin's doing.
func TestWithoutPreferLabel(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, testkit.Options{Backend: testkit.Memory, Registry: registry, Cluster: cluster})
	web := env.WaitScheduled(env.Create(deployment("web", 6, "1")))
	if plain := web.NodeCounts()["plain-0"] + web.NodeCounts()["plain-1"] + web.NodeCounts()["plain-2"]; plain == 0 {
		t.Errorf("web per node %v: none on plain nodes without the plugin", web.NodeCounts())
	}
}

// BenchmarkPreferLabel runs a placer-bench workload file with the plugin;
// compare two commits with benchstat:
//
//	go test -run '^$' -bench . -benchtime=1x -count=6 > new.txt
func BenchmarkPreferLabel(b *testing.B) {
	res := testkit.Bench(b, "testdata/bench.yaml", testkit.BenchOptions{
		Registry:   registry,
		ConfigFile: "testdata/config.yaml",
	})
	// The benchmark checks placements too: 2000 pods of a quarter cpu fit
	// on the 100 preferred nodes of 8 cpus.
	for _, p := range res.Placements() {
		if p.Node != "" && !strings.HasPrefix(p.Node, "preferred-") {
			b.Fatalf("%s went to %s with room left on preferred nodes", p.Name, p.Node)
		}
	}
}
