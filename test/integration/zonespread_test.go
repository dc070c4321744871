package integration

import (
	"testing"

	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/testkit"
)

// TestZoneSpreadThroughTheBinary: 3 zones of unequal size and a 4th whose
// nodes are all cordoned; a Deployment of 7 and a StatefulSet scaled 3 -> 5
// -> 4 -> 5 end with zone skew <= 1 over the three usable zones, and the
// cordoned zone blocks nothing.
func TestZoneSpreadThroughTheBinary(t *testing.T) {
	cluster := workload.Cluster{
		Zones: workload.Zones{"zone-a", "zone-b", "zone-c", "zone-d"},
		NodeGroups: []workload.NodeGroup{
			zoneGroup("a", "zone-a", 3), zoneGroup("b", "zone-b", 2), zoneGroup("c", "zone-c", 1), zoneGroup("d", "zone-d", 2),
		},
	}
	env, _ := startKit(t, cluster, "", func(env *testkit.Env) {
		env.Cordon("d-0")
		env.Cordon("d-1")
	})
	zones := []string{"zone-a", "zone-b", "zone-c"}

	web := env.WaitScheduled(env.Create(replicated(workload.KindDeployment, "web", 7)))
	if s := web.ZoneSkew(zones...); s > 1 {
		t.Errorf("Deployment web per zone %v: skew %d, want <= 1", web.ZoneCounts(zones...), s)
	}

	db := env.Create(replicated(workload.KindStatefulSet, "db", 3))
	env.WaitScheduled(db)
	// Scale up to 5 as the controller does: spec.replicas first, then the pods.
	db.Scale(5)
	if placed := env.WaitScheduled(db); placed.ZoneSkew(zones...) > 1 {
		t.Errorf("StatefulSet db at 5 per zone %v: skew %d", placed.ZoneCounts(zones...), placed.ZoneSkew(zones...))
	}
	// Scale down to 4 (highest ordinal first), then back up to 5: the new
	// db-4 goes where the set is thinnest.
	db.Scale(4)
	db.Scale(5)
	dbPlaced := env.WaitScheduled(db)
	if s := dbPlaced.ZoneSkew(zones...); s > 1 {
		t.Errorf("StatefulSet db after scale down and up per zone %v: skew %d", dbPlaced.ZoneCounts(zones...), s)
	}
	for _, p := range append(web, dbPlaced...) {
		if p.Zone == "zone-d" {
			t.Errorf("%s placed on cordoned node %s", p.Name, p.Node)
		}
	}
	t.Logf("web per zone %v, db per zone %v", web.ZoneCounts(zones...), dbPlaced.ZoneCounts(zones...))
}
