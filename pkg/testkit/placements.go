package testkit

import (
	"errors"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/placemath"
)

// Placement is one pod and where the scheduler put it: the harness's
// result.Placement, so that a test and a benchmark report read alike.
// OwnerKind is empty for a bare pod; Reason is the scheduler's message on
// an unbound pod.
type Placement = result.Placement

// PlacementOf reads a pod's placement (result.PlacementOf); zoneOf maps
// node names to zones.
func PlacementOf(pod *v1.Pod, zoneOf map[string]string) Placement {
	return result.PlacementOf(pod, zoneOf)
}

// Placements are pods and where they went, with helpers for the usual
// assertions. Counts and skews cover bound pods only.
type Placements []Placement

// Of returns the placements of the named workload instances (Placement.Workload).
func (ps Placements) Of(workloads ...string) Placements {
	var out Placements
	for _, p := range ps {
		for _, w := range workloads {
			if p.Workload == w {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// ByWorkload groups placements by Placement.Workload.
func (ps Placements) ByWorkload() map[string]Placements {
	out := map[string]Placements{}
	for _, p := range ps {
		out[p.Workload] = append(out[p.Workload], p)
	}
	return out
}

// Bound returns the placements of pods that have a node.
func (ps Placements) Bound() Placements {
	var out Placements
	for _, p := range ps {
		if p.Bound() {
			out = append(out, p)
		}
	}
	return out
}

// Unbound returns the placements of pods that have no node.
func (ps Placements) Unbound() Placements {
	var out Placements
	for _, p := range ps {
		if !p.Bound() {
			out = append(out, p)
		}
	}
	return out
}

// Find returns the placement of the pod of that name (in any namespace).
func (ps Placements) Find(name string) (Placement, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Placement{}, false
}

// ZoneCounts counts bound pods per zone. The zones given are present even
// when they hold none, so that an empty zone shows in the counts and in
// their skew; zones not given are counted when they hold pods.
func (ps Placements) ZoneCounts(zones ...string) map[string]int {
	return ps.counts(Zone, zones)
}

// NodeCounts counts bound pods per node, with the nodes given present even
// when they hold none.
func (ps Placements) NodeCounts(nodes ...string) map[string]int {
	return ps.counts(Node, nodes)
}

func (ps Placements) counts(d Domain, always []string) map[string]int {
	out := map[string]int{}
	for _, k := range always {
		out[k] = 0
	}
	for _, p := range ps {
		if p.Bound() {
			out[d.of(p)]++
		}
	}
	return out
}

// ZoneSkew is Skew(ZoneCounts(zones...)): the difference between the most
// and the fewest pods in a zone.
func (ps Placements) ZoneSkew(zones ...string) int { return Skew(ps.ZoneCounts(zones...)) }

// NodeSkew is Skew(NodeCounts(nodes...)).
func (ps Placements) NodeSkew(nodes ...string) int { return Skew(ps.NodeCounts(nodes...)) }

// Skew is the largest count minus the smallest among counts; 0 for no
// counts.
func Skew(counts map[string]int) int { return placemath.Skew(counts, 0) }

// Domain is a failure domain: a zone or a node.
type Domain string

// The failure domains QuorumSafe checks.
const (
	Zone Domain = "zone"
	Node Domain = "node"
)

func (d Domain) of(p Placement) string {
	if d == Node {
		return p.Node
	}
	return p.Zone
}

// QuorumSafe checks, for each workload among the placements (a StatefulSet
// of R replicas, say), that losing any single domain of kind d leaves at
// least ⌊R/2⌋+1 of its replicas running: no zone (or node) holds more than
// R-(⌊R/2⌋+1). R counts every placement of the workload, bound or not; only
// bound ones survive. The error names each workload and domain that fails.
func (ps Placements) QuorumSafe(d Domain) error {
	groups := ps.ByWorkload()
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		g := groups[name]
		r, q := len(g), placemath.Quorum(len(g))
		bound := len(g.Bound())
		if bound < q {
			errs = append(errs, fmt.Errorf("%s: only %d of %d replicas are bound, below quorum %d before any loss", name, bound, r, q))
			continue
		}
		counts := g.counts(d, nil)
		domains := make([]string, 0, len(counts))
		for k := range counts {
			domains = append(domains, k)
		}
		sort.Strings(domains)
		for _, k := range domains {
			if left := bound - counts[k]; left < q {
				errs = append(errs, fmt.Errorf("%s: losing %s %q leaves %d of %d replicas, below quorum %d (per %s: %v)",
					name, d, k, left, r, q, d, counts))
			}
		}
	}
	return errors.Join(errs...)
}

// Utilization returns, for each node with some allocatable r, the share of
// it that the bound placements request (0.25 for a quarter). Pods not among
// the placements are not counted: give them all for a node's real use.
func Utilization(nodes []*v1.Node, ps Placements, r v1.ResourceName) map[string]float64 {
	requested := map[string]float64{}
	for _, p := range ps {
		if q, ok := p.Requests[r]; ok && p.Bound() {
			requested[p.Node] += q.AsApproximateFloat64()
		}
	}
	out := map[string]float64{}
	for _, n := range nodes {
		alloc, ok := n.Status.Allocatable[r]
		if !ok || alloc.Sign() <= 0 {
			continue
		}
		out[n.Name] = requested[n.Name] / alloc.AsApproximateFloat64()
	}
	return out
}

// Placements reads every pod in the cluster back from the API, sorted by
// namespace and name.
func (e *Env) Placements() Placements {
	e.tb.Helper()
	ps, err := e.readPlacements(nil)
	if err != nil {
		e.tb.Fatalf("testkit: %v", err)
	}
	return ps
}

// Utilization is Utilization over every node and every pod in the cluster.
func (e *Env) Utilization(r v1.ResourceName) map[string]float64 {
	e.tb.Helper()
	return Utilization(e.Nodes(), e.Placements(), r)
}

func (e *Env) placementsOf(pods []types.NamespacedName) Placements {
	e.tb.Helper()
	ps, err := e.readPlacements(pods)
	if err != nil {
		e.tb.Fatalf("testkit: %v", err)
	}
	return ps
}

// readPlacements lists pods and nodes and returns the placements of the
// given pods in their order (a pod the API does not have is unbound, with
// a message saying so), or of every pod when none are given.
func (e *Env) readPlacements(pods []types.NamespacedName) (Placements, error) {
	nodes, err := e.Client.CoreV1().Nodes().List(e.ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	zoneOf := map[string]string{}
	for _, n := range nodes.Items {
		zoneOf[n.Name] = n.Labels[generate.ZoneLabel]
	}
	list, err := e.Client.CoreV1().Pods("").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	byName := map[types.NamespacedName]Placement{}
	var all Placements
	for i := range list.Items {
		p := PlacementOf(&list.Items[i], zoneOf)
		byName[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}] = p
		all = append(all, p)
	}
	if pods == nil {
		sort.Slice(all, func(i, j int) bool {
			if all[i].Namespace != all[j].Namespace {
				return all[i].Namespace < all[j].Namespace
			}
			return all[i].Name < all[j].Name
		})
		return all, nil
	}
	out := make(Placements, 0, len(pods))
	for _, n := range pods {
		p, ok := byName[n]
		if !ok {
			p = Placement{Namespace: n.Namespace, Name: n.Name, Workload: n.Name, Reason: "the pod does not exist"}
		}
		out = append(out, p)
	}
	return out, nil
}
