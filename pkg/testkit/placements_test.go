package testkit_test

import (
	"maps"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/testkit"
)

// at is a bound replica of workload w on node n in zone z.
func at(w, n, z string) testkit.Placement {
	return testkit.Placement{Workload: w, Name: w + "-" + n, Node: n, Zone: z}
}

// unbound is a replica of w the scheduler found no node for.
func unbound(w string) testkit.Placement {
	return testkit.Placement{Workload: w, Name: w + "-pending", Unschedulable: true}
}

func TestSkew(t *testing.T) {
	for _, tc := range []struct {
		counts map[string]int
		want   int
	}{
		{nil, 0},
		{map[string]int{"a": 4}, 0},
		{map[string]int{"a": 3, "b": 2, "c": 2}, 1},
		{map[string]int{"a": 0, "b": 4, "c": 1}, 4},
	} {
		if got := testkit.Skew(tc.counts); got != tc.want {
			t.Errorf("Skew(%v) = %d, want %d", tc.counts, got, tc.want)
		}
	}
}

func TestCounts(t *testing.T) {
	ps := testkit.Placements{
		at("web", "a-1", "zone-a"), at("web", "a-1", "zone-a"), at("web", "a-2", "zone-a"),
		at("web", "b-1", "zone-b"), unbound("web"), at("db", "c-1", "zone-c"),
	}
	web := ps.Of("web")
	if len(web) != 5 || len(web.Bound()) != 4 || len(web.Unbound()) != 1 {
		t.Fatalf("Of(web) %d, bound %d, unbound %d; want 5, 4, 1", len(web), len(web.Bound()), len(web.Unbound()))
	}
	// The unbound pod is in no zone; zone-c is listed, so it counts as empty.
	if got, want := web.ZoneCounts("zone-a", "zone-b", "zone-c"), map[string]int{"zone-a": 3, "zone-b": 1, "zone-c": 0}; !maps.Equal(got, want) {
		t.Errorf("ZoneCounts = %v, want %v", got, want)
	}
	if got := web.ZoneSkew("zone-a", "zone-b", "zone-c"); got != 3 {
		t.Errorf("ZoneSkew over three zones = %d, want 3", got)
	}
	// Without the empty zone listed, only zones holding pods count.
	if got := web.ZoneSkew(); got != 2 {
		t.Errorf("ZoneSkew over occupied zones = %d, want 2", got)
	}
	if got, want := web.NodeCounts("b-2"), map[string]int{"a-1": 2, "a-2": 1, "b-1": 1, "b-2": 0}; !maps.Equal(got, want) {
		t.Errorf("NodeCounts = %v, want %v", got, want)
	}
	if got := web.NodeSkew("b-2"); got != 2 {
		t.Errorf("NodeSkew = %d, want 2", got)
	}
	if got := ps.ByWorkload(); len(got) != 2 || len(got["web"]) != 5 || len(got["db"]) != 1 {
		t.Errorf("ByWorkload sizes: web %d db %d", len(got["web"]), len(got["db"]))
	}
	if p, ok := ps.Find("db-c-1"); !ok || p.Node != "c-1" {
		t.Errorf("Find(db-c-1) = %+v, %v", p, ok)
	}
	if _, ok := ps.Find("nope"); ok {
		t.Errorf("Find(nope) found something")
	}
}

func TestQuorumSafe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ps     testkit.Placements
		domain testkit.Domain
		// want lists what the error must say, in order of appearance; none: no error.
		want []string
	}{
		{name: "3 over 3 zones", domain: testkit.Zone,
			ps: testkit.Placements{at("etcd", "a-1", "zone-a"), at("etcd", "b-1", "zone-b"), at("etcd", "c-1", "zone-c")}},
		// R=3, quorum 2: two in zone-a, losing it leaves 1.
		{name: "3 with 2 in a zone", domain: testkit.Zone,
			ps:   testkit.Placements{at("etcd", "a-1", "zone-a"), at("etcd", "a-2", "zone-a"), at("etcd", "b-1", "zone-b")},
			want: []string{`etcd: losing zone "zone-a" leaves 1 of 3 replicas, below quorum 2`}},
		// R=5, quorum 3: 2+2+1, losing a 2 leaves 3.
		{name: "5 as 2 2 1", domain: testkit.Zone,
			ps: testkit.Placements{at("pg", "a-1", "zone-a"), at("pg", "a-2", "zone-a"), at("pg", "b-1", "zone-b"),
				at("pg", "b-2", "zone-b"), at("pg", "c-1", "zone-c")}},
		// R=5 as 3+1+1: losing zone-a leaves 2.
		{name: "5 as 3 1 1", domain: testkit.Zone,
			ps: testkit.Placements{at("pg", "a-1", "zone-a"), at("pg", "a-2", "zone-a"), at("pg", "a-3", "zone-a"),
				at("pg", "b-1", "zone-b"), at("pg", "c-1", "zone-c")},
			want: []string{`pg: losing zone "zone-a" leaves 2 of 5 replicas, below quorum 3`}},
		// An unbound replica counts in R but does not survive: 2 bound of 3
		// in two zones, and losing either leaves 1.
		{name: "3 with one unbound", domain: testkit.Zone,
			ps:   testkit.Placements{at("etcd", "a-1", "zone-a"), at("etcd", "b-1", "zone-b"), unbound("etcd")},
			want: []string{`etcd: losing zone "zone-a" leaves 1 of 3`, `etcd: losing zone "zone-b" leaves 1 of 3`}},
		{name: "quorum lost before any loss", domain: testkit.Zone,
			ps:   testkit.Placements{at("etcd", "a-1", "zone-a"), unbound("etcd"), unbound("etcd")},
			want: []string{"etcd: only 1 of 3 replicas are bound, below quorum 2 before any loss"}},
		// Nodes: R=5 with two on one node is safe (3 left), three is not.
		{name: "5 with 2 on a node", domain: testkit.Node,
			ps: testkit.Placements{at("pg", "n1", "zone-a"), at("pg", "n1", "zone-a"), at("pg", "n2", "zone-a"),
				at("pg", "n3", "zone-b"), at("pg", "n4", "zone-c")}},
		{name: "5 with 3 on a node", domain: testkit.Node,
			ps: testkit.Placements{at("pg", "n1", "zone-a"), at("pg", "n1", "zone-a"), at("pg", "n1", "zone-a"),
				at("pg", "n3", "zone-b"), at("pg", "n4", "zone-c")},
			want: []string{`pg: losing node "n1" leaves 2 of 5 replicas, below quorum 3`}},
		// Workloads are judged apart: only the unsafe one is named.
		{name: "two workloads", domain: testkit.Zone,
			ps: testkit.Placements{at("etcd", "a-1", "zone-a"), at("etcd", "b-1", "zone-b"), at("etcd", "c-1", "zone-c"),
				at("zk", "a-1", "zone-a"), at("zk", "a-2", "zone-a"), at("zk", "b-1", "zone-b")},
			want: []string{`zk: losing zone "zone-a"`}},
		// One replica cannot survive the loss of its zone.
		{name: "single replica", domain: testkit.Zone,
			ps:   testkit.Placements{at("solo", "a-1", "zone-a")},
			want: []string{`solo: losing zone "zone-a" leaves 0 of 1 replicas, below quorum 1`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ps.QuorumSafe(tc.domain)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("QuorumSafe(%s) = %v, want nil", tc.domain, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("QuorumSafe(%s) = nil, want an error saying %q", tc.domain, tc.want)
			}
			msg, rest := err.Error(), err.Error()
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("QuorumSafe(%s) error %q lacks %q (in this order)", tc.domain, msg, w)
					break
				}
				rest = rest[i+len(w):]
			}
			if tc.name == "two workloads" && strings.Contains(msg, "etcd") {
				t.Errorf("error names the safe workload etcd: %q", msg)
			}
		})
	}
}

func node(name, cpu string) *v1.Node {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if cpu != "" {
		n.Status.Allocatable = v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}
	}
	return n
}

func TestUtilization(t *testing.T) {
	req := func(p testkit.Placement, cpu string) testkit.Placement {
		p.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}
		return p
	}
	nodes := []*v1.Node{node("n1", "4"), node("n2", "2"), node("n3", "")}
	ps := testkit.Placements{
		req(at("web", "n1", "zone-a"), "1"), req(at("web", "n1", "zone-a"), "500m"),
		req(unbound("web"), "8"), // unbound: requests nothing of any node
		req(at("web", "n3", "zone-a"), "1"),
	}
	got := testkit.Utilization(nodes, ps, v1.ResourceCPU)
	// n1: 1.5 of 4; n2: nothing of 2; n3 has no cpu to share.
	if want := map[string]float64{"n1": 0.375, "n2": 0}; !maps.Equal(got, want) {
		t.Errorf("Utilization = %v, want %v", got, want)
	}
}
