package integration

import (
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/testkit"
)

// statefulSetOnlyConfig is a profile in which StatefulSetAware is the only
// topology plugin, so what the test sees is its doing, not ZoneSpread's.
const statefulSetOnlyConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false}
profiles:
- schedulerName: placer
  plugins:
    multiPoint: {enabled: [{name: StatefulSetAware, weight: 3}]}
`

// TestStatefulSetQuorumThroughTheBinary: StatefulSets of 3 and 5 replicas
// over 3 zones, with the shipped profile and with StatefulSetAware alone.
// Whichever single zone is lost, every set keeps a quorum; a deleted replica
// comes back to its zone; the placements show on /metrics.
func TestStatefulSetQuorumThroughTheBinary(t *testing.T) {
	t.Run("shipped profile", func(t *testing.T) { testStatefulSetQuorum(t, "") })
	t.Run("StatefulSetAware alone", func(t *testing.T) { testStatefulSetQuorum(t, statefulSetOnlyConfig) })
}

func testStatefulSetQuorum(t *testing.T, config string) {
	cluster := workload.Cluster{
		Zones:      workload.Zones{"zone-a", "zone-b", "zone-c"},
		NodeGroups: []workload.NodeGroup{zoneGroup("a", "zone-a", 3), zoneGroup("b", "zone-b", 3), zoneGroup("c", "zone-c", 3)},
	}
	env, proc := startKit(t, cluster, config, nil)
	sets := map[string]int{"etcd": 3, "pg": 5}
	created := map[string]*testkit.Workload{}
	for name, r := range sets {
		created[name] = env.Create(replicated(workload.KindStatefulSet, name, r))
	}
	placed := env.WaitScheduled()

	for name, r := range sets {
		set := placed.Of(name)
		if len(set) != r {
			t.Fatalf("%s has %d placements, want %d", name, len(set), r)
		}
		// Whichever zone is lost, ⌊R/2⌋+1 replicas survive; and whichever
		// node: no node holds more than R-(⌊R/2⌋+1) replicas.
		if err := set.QuorumSafe(testkit.Zone); err != nil {
			t.Error(err)
		}
		if err := set.QuorumSafe(testkit.Node); err != nil {
			t.Error(err)
		}
		// Each primary (ordinal 0) has its node alone.
		primary, _ := set.Find(name + "-0")
		if n := set.NodeCounts()[primary.Node]; n != 1 {
			t.Errorf("%s: primary shares node %s (%d replicas there)", name, primary.Node, n)
		}
	}

	// pg-3 is deleted and recreated by its controller: it returns to its zone.
	before, _ := placed.Find("pg-3")
	created["pg"].Replace("pg-3")
	if after, _ := env.WaitScheduled(created["pg"]).Find("pg-3"); after.Zone != before.Zone {
		t.Errorf("recreated pg-3 went to %s (%s), was in %s", after.Zone, after.Node, before.Zone)
	}

	body, code, err := proc.Get(env.ControlPlane.Config, "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	if !strings.Contains(string(body), `placer_statefulset_placements_total{rule="ordinal_zone"}`) {
		t.Errorf("/metrics lacks placer_statefulset_placements_total by rule")
	}
	// In the shipped profile ZoneSpread's Filter runs first and may reject a
	// zone before this plugin sees it; alone, the zone guard does that work.
	wantRejections := `placer_statefulset_quorum_guard_rejections_total{reason="`
	if config != "" {
		wantRejections += `zone"}`
	}
	if !strings.Contains(string(body), wantRejections) {
		var lines []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "placer_") {
				lines = append(lines, l)
			}
		}
		t.Errorf("/metrics lacks quorum-guard rejections by reason; placer lines:\n%s", strings.Join(lines, "\n"))
	}
}
