// Package quality says what a placement is worth: how evenly each workload
// is spread over zones and nodes, what survives the loss of any one zone or
// node, how well resources are packed, and what could not be placed. It
// works on a final placement alone, so that anyone can recompute it from a
// run's placements export; docs/quality.md defines every figure.
package quality

import (
	"math"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/placemath"
)

// Node is a node of the cluster at the end of the run.
type Node struct {
	Name        string
	Zone        string
	Allocatable v1.ResourceList
	// Occupied is what pods that are not the run's request on the node
	// (those of a cluster snapshot, or of other schedulers), and their
	// number: capacity taken before the run placed anything.
	Occupied     v1.ResourceList
	OccupiedPods int64
}

// strandedResources are the resources stranded capacity is computed over:
// those every pod asks for.
var strandedResources = []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory}

// DefaultReferencePod is the shape ReferencePodsFit counts when the
// workload names none.
var DefaultReferencePod = v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("2Gi")}

// Compute measures a placement: the pods of a run that were not deleted
// (churn, scale-down, preemption, drills) on its nodes.
func Compute(nodes []Node, pods []result.Placement, reference v1.ResourceList) result.Quality {
	pods = alive(pods)
	if reference == nil {
		reference = DefaultReferencePod
	}
	return result.Quality{
		Spread:       spread(nodes, pods),
		Availability: availability(nodes, pods),
		Packing:      packing(nodes, pods, reference),
		Outcomes:     outcomes(pods),
	}
}

// alive leaves out the deleted pods.
func alive(pods []result.Placement) []result.Placement {
	out := make([]result.Placement, 0, len(pods))
	for _, p := range pods {
		if !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}

type owner struct{ kind, namespace, name string }

func (o owner) String() string { return o.kind + " " + o.namespace + "/" + o.name }

// byOwner groups the pods of owned workloads.
func byOwner(pods []result.Placement) (map[owner][]result.Placement, []owner) {
	groups := map[owner][]result.Placement{}
	for _, p := range pods {
		if p.OwnerKind == "" {
			continue
		}
		o := owner{p.OwnerKind, p.Namespace, p.OwnerName}
		groups[o] = append(groups[o], p)
	}
	keys := make([]owner, 0, len(groups))
	for o := range groups {
		keys = append(keys, o)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return groups, keys
}

func zonesOf(nodes []Node) (map[string]string, []string) {
	zoneOf := map[string]string{}
	seen := map[string]bool{}
	var zones []string
	for _, n := range nodes {
		zoneOf[n.Name] = n.Zone
		if !seen[n.Zone] {
			seen[n.Zone] = true
			zones = append(zones, n.Zone)
		}
	}
	sort.Strings(zones)
	return zoneOf, zones
}

func spread(nodes []Node, pods []result.Placement) result.Spread {
	zoneOf, zones := zonesOf(nodes)
	groups, keys := byOwner(pods)
	out := result.Spread{Workloads: []result.WorkloadSpread{}}
	for _, o := range keys {
		ws := result.WorkloadSpread{Workload: o.String(), Zones: map[string]int{}}
		perNode := map[string]int{}
		for _, z := range zones {
			ws.Zones[z] = 0
		}
		for _, p := range groups[o] {
			if p.Node == "" {
				continue
			}
			ws.Replicas++
			perNode[p.Node]++
			ws.Zones[zoneOf[p.Node]]++
		}
		ws.ZoneSkew = placemath.Skew(ws.Zones, len(zones))
		ws.NodeSkew = placemath.Skew(perNode, len(nodes))
		if ws.ZoneSkew > out.WorstZoneSkew {
			out.WorstZoneSkew, out.WorstZoneSkewWorkload = ws.ZoneSkew, ws.Workload
		}
		out.WorstNodeSkew = max(out.WorstNodeSkew, ws.NodeSkew)
		out.Workloads = append(out.Workloads, ws)
	}
	return out
}

// ImpactOf is what keeps running when the nodes lost says are lost; deleted
// pods are left out.
func ImpactOf(pods []result.Placement, lost func(node string) bool, domain string) result.Impact {
	return impactOf(alive(pods), lost, domain)
}

// impactOf is ImpactOf of pods already without the deleted ones (availability
// calls it once per zone and node).
func impactOf(pods []result.Placement, lost func(node string) bool, domain string) result.Impact {
	groups, keys := byOwner(pods)
	im := result.Impact{Domain: domain, StatefulSetsWithQuorum: 1, DeploymentsAvailable: 1}
	var sets, setsOK, deps, depsOK int
	for _, o := range keys {
		switch o.kind {
		case "StatefulSet":
			sets++
			if survivors(groups[o], lost) >= placemath.Quorum(len(groups[o])) {
				setsOK++
			}
		case "Deployment":
			deps++
			if survivors(groups[o], lost) >= 1 {
				depsOK++
			}
		}
	}
	if sets > 0 {
		im.StatefulSetsWithQuorum = float64(setsOK) / float64(sets)
	}
	if deps > 0 {
		im.DeploymentsAvailable = float64(depsOK) / float64(deps)
	}
	return im
}

func availability(nodes []Node, pods []result.Placement) result.Availability {
	zoneOf, zones := zonesOf(nodes)
	_, keys := byOwner(pods)
	out := result.Availability{Zones: []result.Impact{}}
	for _, o := range keys {
		switch o.kind {
		case "StatefulSet":
			out.StatefulSets++
		case "Deployment":
			out.Deployments++
		}
	}
	impact := func(domain string, lost func(node string) bool) result.Impact { return impactOf(pods, lost, domain) }
	worse := func(a, b result.Impact) bool {
		if a.StatefulSetsWithQuorum != b.StatefulSetsWithQuorum {
			return a.StatefulSetsWithQuorum < b.StatefulSetsWithQuorum
		}
		return a.DeploymentsAvailable < b.DeploymentsAvailable
	}
	out.WorstZone = result.Impact{StatefulSetsWithQuorum: 1, DeploymentsAvailable: 1}
	for _, z := range zones {
		im := impact(z, func(n string) bool { return zoneOf[n] == z })
		out.Zones = append(out.Zones, im)
		if out.WorstZone.Domain == "" || worse(im, out.WorstZone) {
			out.WorstZone = im
		}
	}
	out.WorstNode = result.Impact{StatefulSetsWithQuorum: 1, DeploymentsAvailable: 1}
	for _, im := range singleNodeLosses(pods) {
		if im.StatefulSetsWithQuorum < 1 {
			out.NodesBreakingQuorum++
		}
		if out.WorstNode.Domain == "" || worse(im, out.WorstNode) {
			out.WorstNode = im
		}
	}
	return out
}

// singleNodeLosses is impactOf for the loss of each node holding a replica,
// in node-name order. It equals calling impactOf once per node, but losing one
// node only changes the workloads with a replica there, so it counts, per
// node, the workloads that loss breaks: one pass over the pods instead of a
// pass per node (at 15,000 nodes and 150,000 pods the per-node passes took
// minutes).
func singleNodeLosses(pods []result.Placement) []result.Impact {
	groups, keys := byOwner(pods)
	var sets, setsOK, deps, depsOK int
	setsBroken, depsBroken := map[string]int{}, map[string]int{}
	for _, o := range keys {
		stateful := o.kind == "StatefulSet"
		if !stateful && o.kind != "Deployment" {
			continue
		}
		need := 1
		if stateful {
			sets++
			need = placemath.Quorum(len(groups[o]))
		} else {
			deps++
		}
		bound, onNode := 0, map[string]int{}
		for _, p := range groups[o] {
			if p.Node != "" {
				bound++
				onNode[p.Node]++
			}
		}
		if bound < need {
			continue // already short with nothing lost: no single loss changes it
		}
		if stateful {
			setsOK++
		} else {
			depsOK++
		}
		for n, c := range onNode {
			if bound-c >= need {
				continue
			}
			if stateful {
				setsBroken[n]++
			} else {
				depsBroken[n]++
			}
		}
	}
	// Only nodes holding a replica of an owned pod can change anything.
	used := map[string]bool{}
	for _, p := range pods {
		if p.Node != "" && p.OwnerKind != "" {
			used[p.Node] = true
		}
	}
	usedNodes := make([]string, 0, len(used))
	for n := range used {
		usedNodes = append(usedNodes, n)
	}
	sort.Strings(usedNodes)
	out := make([]result.Impact, 0, len(usedNodes))
	for _, n := range usedNodes {
		im := result.Impact{Domain: n, StatefulSetsWithQuorum: 1, DeploymentsAvailable: 1}
		if sets > 0 {
			im.StatefulSetsWithQuorum = float64(setsOK-setsBroken[n]) / float64(sets)
		}
		if deps > 0 {
			im.DeploymentsAvailable = float64(depsOK-depsBroken[n]) / float64(deps)
		}
		out = append(out, im)
	}
	return out
}

// survivors counts the bound replicas not on a lost node. The quorum is of
// all replicas, bound or not: an unplaced replica is no vote.
func survivors(pods []result.Placement, lost func(node string) bool) int {
	n := 0
	for _, p := range pods {
		if p.Node != "" && !lost(p.Node) {
			n++
		}
	}
	return n
}

func packing(nodes []Node, pods []result.Placement, reference v1.ResourceList) result.Packing {
	requested := map[string]map[v1.ResourceName]int64{} // node -> resource -> milli-units
	podsOn := map[string]int64{}
	for _, n := range nodes {
		if len(n.Occupied) == 0 && n.OccupiedPods == 0 {
			continue
		}
		requested[n.Name] = map[v1.ResourceName]int64{}
		for r, q := range n.Occupied {
			requested[n.Name][r] = q.MilliValue()
		}
		podsOn[n.Name] = n.OccupiedPods
	}
	for _, p := range pods {
		if p.Node == "" {
			continue
		}
		podsOn[p.Node]++
		if requested[p.Node] == nil {
			requested[p.Node] = map[v1.ResourceName]int64{}
		}
		for r, q := range p.Requests {
			requested[p.Node][r] += q.MilliValue()
		}
	}
	out := result.Packing{Nodes: len(nodes), ReferencePod: reference}
	fractions := map[v1.ResourceName][]float64{}
	stranded := map[v1.ResourceName]float64{}
	total := map[v1.ResourceName]float64{}
	for _, n := range nodes {
		if podsOn[n.Name] > 0 {
			out.NodesInUse++
		}
		alloc := map[v1.ResourceName]int64{}
		for r, q := range n.Allocatable {
			if r == v1.ResourcePods || r == v1.ResourceEphemeralStorage || q.IsZero() {
				continue
			}
			alloc[r] = q.MilliValue()
			fractions[r] = append(fractions[r], float64(requested[n.Name][r])/float64(alloc[r]))
			total[r] += float64(alloc[r])
		}
		u := result.NodeUsage{Name: n.Name, Zone: n.Zone}
		if a := alloc[v1.ResourceCPU]; a > 0 {
			u.CPU = float64(requested[n.Name][v1.ResourceCPU]) / float64(a)
		}
		if a := alloc[v1.ResourceMemory]; a > 0 {
			u.Memory = float64(requested[n.Name][v1.ResourceMemory]) / float64(a)
		}
		out.PerNode = append(out.PerNode, u)
		for r, s := range placemath.Stranded(alloc, requested[n.Name], strandedResources) {
			stranded[r] += float64(s)
		}
		out.ReferencePodsFit += fits(n, alloc, requested[n.Name], podsOn[n.Name], reference)
	}
	sort.Slice(out.PerNode, func(i, j int) bool {
		a, b := out.PerNode[i], out.PerNode[j]
		if a.Zone != b.Zone {
			return a.Zone < b.Zone
		}
		return a.Name < b.Name
	})
	names := make([]v1.ResourceName, 0, len(fractions))
	for r := range fractions {
		names = append(names, r)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	for r, s := range strandedExtended(nodes, pods, requested) {
		stranded[r] = s
	}
	for _, r := range names {
		mean, sd := meanStdDev(fractions[r])
		rp := result.ResourcePacking{Resource: string(r), RequestedMean: mean, RequestedStdDev: sd}
		if total[r] > 0 {
			rp.RequestedOfCapacity = float64(requestedTotal(requested, r)) / total[r]
		}
		if s, ok := stranded[r]; ok {
			rp.Stranded = s / 1000
			if total[r] > 0 {
				rp.StrandedFraction = s / total[r]
			}
		}
		out.Resources = append(out.Resources, rp)
	}
	return out
}

func requestedTotal(requested map[string]map[v1.ResourceName]int64, r v1.ResourceName) int64 {
	var sum int64
	for _, byResource := range requested {
		sum += byResource[r]
	}
	return sum
}

// strandedExtended is, per extended resource, the free capacity (milli-units)
// on nodes where the cpu or memory left is below what the smallest pod
// asking for that resource needs: GPUs no GPU pod of the run could use.
func strandedExtended(nodes []Node, pods []result.Placement, requested map[string]map[v1.ResourceName]int64) map[v1.ResourceName]float64 {
	// smallest[r] is the least cpu and memory (milli-units) of any pod
	// asking for r, bound or not.
	smallest := map[v1.ResourceName][2]int64{}
	for _, p := range pods {
		for r, q := range p.Requests {
			if !isExtended(r) || q.IsZero() {
				continue
			}
			cpu, mem := p.Requests[v1.ResourceCPU], p.Requests[v1.ResourceMemory]
			least, seen := smallest[r]
			if !seen {
				least = [2]int64{math.MaxInt64, math.MaxInt64}
			}
			smallest[r] = [2]int64{min(least[0], cpu.MilliValue()), min(least[1], mem.MilliValue())}
		}
	}
	out := map[v1.ResourceName]float64{}
	for r, least := range smallest {
		out[r] = 0
		for _, n := range nodes {
			alloc, ok := n.Allocatable[r]
			if !ok || alloc.IsZero() {
				continue
			}
			free := alloc.MilliValue() - requested[n.Name][r]
			if free <= 0 {
				continue
			}
			cpu, mem := n.Allocatable[v1.ResourceCPU], n.Allocatable[v1.ResourceMemory]
			freeCPU := cpu.MilliValue() - requested[n.Name][v1.ResourceCPU]
			freeMem := mem.MilliValue() - requested[n.Name][v1.ResourceMemory]
			if freeCPU < least[0] || freeMem < least[1] {
				out[r] += float64(free)
			}
		}
	}
	return out
}

// isExtended reports whether r is a resource beyond the node's built-in
// ones (cpu, memory, pods, storage, hugepages), e.g. nvidia.com/gpu.
func isExtended(r v1.ResourceName) bool {
	return strings.Contains(string(r), "/") && !strings.HasPrefix(string(r), v1.ResourceHugePagesPrefix) &&
		!strings.HasPrefix(string(r), "kubernetes.io/")
}

// fits counts the reference pods that fit in a node's free capacity.
func fits(n Node, alloc, requested map[v1.ResourceName]int64, pods int64, reference v1.ResourceList) int64 {
	best := int64(math.MaxInt64)
	if maxPods, ok := n.Allocatable[v1.ResourcePods]; ok {
		best = max(0, maxPods.Value()-pods)
	}
	for r, q := range reference {
		want := q.MilliValue()
		if want <= 0 {
			continue
		}
		best = min(best, max(0, alloc[r]-requested[r])/want)
	}
	if best == math.MaxInt64 {
		return 0
	}
	return best
}

func meanStdDev(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	var sq float64
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sq / float64(len(xs)))
}

// topReasons is how many reasons result.Outcomes lists.
const topReasons = 5

func outcomes(pods []result.Placement) result.Outcomes {
	var out result.Outcomes
	counts := map[string]int{}
	for _, p := range pods {
		switch {
		case p.Node != "":
			out.Bound++
		case p.Unschedulable:
			out.Unschedulable++
			for _, r := range Reasons(p.Reason) {
				counts[r]++
			}
		}
	}
	for r, n := range counts {
		out.TopReasons = append(out.TopReasons, result.ReasonCount{Reason: r, Pods: n})
	}
	sort.Slice(out.TopReasons, func(i, j int) bool {
		a, b := out.TopReasons[i], out.TopReasons[j]
		if a.Pods != b.Pods {
			return a.Pods > b.Pods
		}
		return a.Reason < b.Reason
	})
	if len(out.TopReasons) > topReasons {
		out.TopReasons = out.TopReasons[:topReasons]
	}
	return out
}

// Reasons splits the scheduler's "0/6 nodes are available: 3 Insufficient
// cpu, 3 node(s) had untolerated taint(s). preemption: ..." into its
// reasons without their node counts ("Insufficient cpu", ...); the
// preemption part is left out.
func Reasons(message string) []string {
	msg, _, _ := strings.Cut(message, " preemption:")
	if _, rest, ok := strings.Cut(msg, "nodes are available: "); ok {
		msg = rest
	}
	msg = strings.TrimSuffix(strings.TrimSpace(msg), ".")
	var out []string
	for _, part := range strings.Split(msg, ", ") {
		part = strings.TrimSpace(part)
		if count, reason, ok := strings.Cut(part, " "); ok && isDigits(count) {
			part = reason
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
