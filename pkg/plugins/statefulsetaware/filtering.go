package statefulsetaware

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/placer-dev/placer/pkg/placemath"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
	"github.com/placer-dev/placer/pkg/plugins/internal/state"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

const stateKey fwk.StateKey = "PreFilter" + Name

// cycleState is everything Filter, Score and PostBind need about the pod's
// set, computed once per cycle in PreFilter (and updated by AddPod and
// RemovePod when preemption tries what removing or adding a pod would do).
type cycleState struct {
	set      set
	ordinal  int
	start    int // spec.ordinals.start: the set's first ordinal
	primary  bool
	replicas int // R: spec.replicas, or more if the pod's ordinal is beyond it
	allowed  int // R − q per zone and per node
	// protected: the zones that can take the pod have room for the replicas
	// still to place without any zone exceeding R − q.
	protected  bool
	zones      []string       // the zones that exist now, sorted
	usable     []string       // the zones with a node that can take the pod, sorted
	zoneCounts map[string]int // other replicas (ordinals start..start+R-1) per zone
	nodeCounts map[string]int // other replicas per node
	// primaryNode is where the set's primary runs, when this pod is not it.
	primaryNode string
	// volumeZone is the zone of a zonal volume the pod's claim is bound to.
	volumeZone string
	// fewest is the least any zone that can take the pod holds, for the
	// ScheduleAnyway fallback; fewestKnown is false when no zone can.
	fewest      int
	fewestKnown bool
	// onePerNode: in the fallback, a zone at the fewest has a node that can
	// take the pod and holds no replica, so nodes that hold one are refused.
	onePerNode bool
	feas       *topology.Feasibility
	reasons    reasons
}

// reasons are Filter's rejection messages, written once per cycle: Filter
// runs for every node, and formatting a message per rejected node cost more
// than the check. They name no node, so the scheduler's summary of an
// unschedulable pod groups the nodes rejected for the same reason.
type reasons struct {
	primaryApart, nearPrimary, nodeFull, noZone, nodeTaken string
	zoneFull                                               map[string]string // zone at R − q -> why
	notFewest                                              map[string]string // fallback: zone above the fewest -> why
}

// Clone copies what AddPod and RemovePod change, so that preemption's
// what-ifs leave the cycle's own state alone.
func (s *cycleState) Clone() fwk.StateData {
	c := *s
	c.zoneCounts = maps.Clone(s.zoneCounts)
	c.nodeCounts = maps.Clone(s.nodeCounts)
	return &c
}

// PreFilter reads the set's replicas and where its other replicas are, and
// decides whether the quorum guard can be met at all.
func (pl *StatefulSetAware) PreFilter(_ context.Context, state fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*framework.PreFilterResult, *fwk.Status) {
	st, ok := pl.prepare(pod)
	if !ok {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	st.feas = topology.NewFeasibility(pod)
	pl.evaluate(st)
	if !st.protected && pl.policy == config.DoNotSchedule {
		pl.rejected[reasonUnprotectable].Inc()
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, unprotectableReason(st, pl.policy))
	}
	state.Write(stateKey, st)
	return nil, nil
}

// prepare builds the cycle state's counts; false for pods that are not
// replicas of a StatefulSet the lister knows (pods of a deleted set are left
// to others).
func (pl *StatefulSetAware) prepare(pod *v1.Pod) (*cycleState, bool) {
	s, ordinal, ok := identity(pod)
	if !ok {
		return nil, false
	}
	ss, err := pl.sets.StatefulSets(s.Namespace).Get(s.Name)
	if err != nil {
		return nil, false
	}
	replicas := 1
	if ss.Spec.Replicas != nil {
		replicas = int(*ss.Spec.Replicas)
	}
	// With spec.ordinals.start the replicas are start..start+R-1: every
	// rule reads ordinals relative to it.
	start := 0
	if ss.Spec.Ordinals != nil {
		start = int(ss.Spec.Ordinals.Start)
	}
	// A pod beyond the last ordinal is one the controller created before a
	// scale-down it has not acted on yet: place it as a member of the set it
	// was made for.
	replicas = max(replicas, ordinal-start+1)
	st := &cycleState{
		set: s, ordinal: ordinal, start: start, primary: pl.isPrimary(ordinal, start, pl.labelled(pod)),
		replicas: replicas, allowed: placemath.AllowedPerDomain(replicas),
		zones:      pl.index.Domains(0),
		zoneCounts: map[string]int{},
		nodeCounts: map[string]int{},
		volumeZone: pl.volumeZone(pod),
	}
	for _, z := range st.zones {
		st.zoneCounts[z] = 0
	}
	for _, m := range pl.members.Values(s) {
		// Replicas outside start..start+R-1 are on their way out (scale-down
		// removes the highest ordinals; a start moved up leaves the lowest),
		// and an older incarnation of this very ordinal is this pod's past,
		// not another replica.
		if !st.inRange(m.ordinal) || m.ordinal == ordinal {
			continue
		}
		pl.count(st, m, 1)
	}
	return st, true
}

func (st *cycleState) inRange(ordinal int) bool {
	return ordinal >= st.start && ordinal < st.start+st.replicas
}

// count adds delta replicas of m to the state's counts.
func (pl *StatefulSetAware) count(st *cycleState, m member, delta int) {
	st.nodeCounts[m.node] += delta
	if z, ok := pl.index.DomainOf(0, m.node); ok {
		st.zoneCounts[z] += delta
	}
	if !st.primary && pl.isPrimary(m.ordinal, st.start, m.labelled) {
		if delta > 0 {
			st.primaryNode = m.node
		} else if st.primaryNode == m.node {
			st.primaryNode = ""
		}
	}
}

// evaluate decides, from the counts, whether the quorum can be protected
// and what the fallback allows, and writes Filter's reasons.
func (pl *StatefulSetAware) evaluate(st *cycleState) {
	st.usable = pl.index.UsableDomains(0, pl.nodeInfos, st.feas)
	st.protected = st.roomLeft() >= st.toPlace()
	st.fewest, st.fewestKnown, st.onePerNode = 0, false, false
	if !st.protected {
		st.fewest, _, st.fewestKnown = pl.index.EffectiveMin(0, st.zoneCounts, pl.nodeInfos, st.feas)
		free := func(node string) bool { return st.nodeCounts[node] == 0 }
		for _, z := range st.usable {
			if (z == st.volumeZone || st.volumeZone == "" && st.zoneCounts[z] == st.fewest) &&
				pl.index.AnyFits(0, z, pl.nodeInfos, st.feas, free) {
				st.onePerNode = true
				break
			}
		}
	}
	pl.writeReasons(st)
}

// toPlace is how many replicas, this one included, are not placed yet.
func (st *cycleState) toPlace() int {
	placed := 0
	for _, n := range st.zoneCounts {
		placed += n
	}
	return st.replicas - placed
}

// roomLeft is how many more replicas the zones that can take the pod hold
// before one of them reaches R − q. A zone that exists but cannot take the
// pod (cordoned, full, tainted, excluded by its affinity) adds nothing: if
// it counted, the guard would wait for a zone that will not come and the
// ScheduleAnyway fallback would never apply.
func (st *cycleState) roomLeft() int {
	if st.allowed == 0 {
		return 0
	}
	room := 0
	for _, z := range st.usable {
		room += max(0, st.allowed-st.zoneCounts[z])
	}
	return room
}

func (pl *StatefulSetAware) writeReasons(st *cycleState) {
	q := placemath.Quorum(st.replicas)
	r := reasons{
		primaryApart: fmt.Sprintf("node runs a replica of %s; its primary keeps a node of its own", st.set),
		nearPrimary:  fmt.Sprintf("node runs the primary of %s; replicas keep off its node", st.set),
		nodeFull: fmt.Sprintf("node holds %d or more of the %d replicas of %s; one more and losing the node leaves fewer than %d (quorum)",
			st.allowed, st.replicas, st.set, q),
		noZone: fmt.Sprintf("node has no %s label; %s is spread by it", pl.key, st.set),
		nodeTaken: fmt.Sprintf("node holds a replica of %s and quorum cannot be protected: replicas go one per node while a node without one can take them",
			st.set),
	}
	for z, n := range st.zoneCounts {
		if st.protected && n+1 > st.allowed {
			if r.zoneFull == nil {
				r.zoneFull = map[string]string{}
			}
			r.zoneFull[z] = fmt.Sprintf("%s=%s holds %d of the %d replicas of %s; one more and losing the zone leaves fewer than %d (quorum)",
				pl.key, z, n, st.replicas, st.set, q)
		}
		if !st.protected && st.fewestKnown && n > st.fewest {
			if r.notFewest == nil {
				r.notFewest = map[string]string{}
			}
			r.notFewest[z] = fmt.Sprintf("%s=%s holds %d replicas of %s, more than the fewest (%d): quorum cannot be protected, so replicas go where they are fewest",
				pl.key, z, n, st.set, st.fewest)
		}
	}
	st.reasons = r
}

func unprotectableReason(st *cycleState, policy config.QuorumPolicy) string {
	q := placemath.Quorum(st.replicas)
	if st.allowed == 0 {
		return fmt.Sprintf("%s has %d replicas: losing any one zone or node loses its quorum of %d (policy %s)",
			st.set, st.replicas, q, policy)
	}
	need := placemath.DomainsNeeded(st.replicas)
	usable := "none"
	if len(st.usable) > 0 {
		usable = strings.Join(st.usable, ", ")
	}
	return fmt.Sprintf("%s has %d replicas and needs %d zones to keep a quorum of %d through a zone's loss (at most %d per zone); "+
		"%d of the cluster's %d zones can take the pod (%s), with room for %d of the %d replicas still to place (policy %s)",
		st.set, st.replicas, need, q, st.allowed, len(st.usable), len(st.zones), usable, st.roomLeft(), st.toPlace(), policy)
}

// PreFilterExtensions lets preemption see what removing a victim, or adding
// a nominated pod, does to the set's counts: update counts another replica
// of the pod's set in or out.
func (pl *StatefulSetAware) PreFilterExtensions() framework.PreFilterExtensions {
	return pluginkit.Recount(pl.update)
}

func (pl *StatefulSetAware) update(cycle fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo, delta int) *fwk.Status {
	st, err := readState(cycle)
	if err != nil {
		return fwk.AsStatus(err)
	}
	s, ordinal, ok := identity(pod)
	if !ok || s != st.set || !st.inRange(ordinal) || ordinal == st.ordinal || nodeInfo.Node() == nil {
		return nil
	}
	pl.count(st, pl.memberOf(pod, nodeInfo.Node().Name, ordinal), delta)
	pl.evaluate(st)
	return nil
}

// Filter applies, in order: the primary stays apart from its replicas (always);
// then, when the zones that can take the pod have room enough, the quorum
// guard on the node and the zone (waived in the zone of the pod's bound
// volume, which VolumeZone requires anyway); otherwise, under
// ScheduleAnyway, the fewest per zone and one per node.
func (pl *StatefulSetAware) Filter(_ context.Context, state fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	st, err := readState(state)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node := nodeInfo.Node()
	n := st.nodeCounts[node.Name]
	if st.primary && n > 0 {
		return pl.reject(reasonPrimaryApart, fwk.Unschedulable, st.reasons.primaryApart)
	}
	if !st.primary && st.primaryNode == node.Name {
		return pl.reject(reasonPrimaryApart, fwk.Unschedulable, st.reasons.nearPrimary)
	}
	zone, hasZone := topology.DomainOfNode(node, pl.key)
	if !st.protected {
		if hasZone && zone != st.volumeZone {
			if reason, ok := st.reasons.notFewest[zone]; ok {
				return pl.reject(reasonFewestPerZone, fwk.Unschedulable, reason)
			}
		}
		if st.onePerNode && n > 0 {
			return pl.reject(reasonNode, fwk.Unschedulable, st.reasons.nodeTaken)
		}
		return nil
	}
	if n+1 > st.allowed {
		return pl.reject(reasonNode, fwk.Unschedulable, st.reasons.nodeFull)
	}
	if !hasZone {
		return pl.reject(reasonZone, fwk.UnschedulableAndUnresolvable, st.reasons.noZone)
	}
	if zone == st.volumeZone {
		return nil
	}
	if reason, ok := st.reasons.zoneFull[zone]; ok {
		return pl.reject(reasonZone, fwk.Unschedulable, reason)
	}
	return nil
}

func (pl *StatefulSetAware) reject(reason string, code fwk.Code, msg string) *fwk.Status {
	pl.rejected[reason].Inc()
	return fwk.NewStatus(code, msg)
}

func readState(cycle fwk.CycleState) (*cycleState, error) {
	return state.Read[*cycleState](cycle, stateKey)
}

// EventsToRegister: replicas of the set placed or removed, nodes and zones
// changing, and claims getting bound can all change what the guard allows.
// The hints requeue a rejected replica only for those: another set's pods,
// node heartbeats and other namespaces' claims are skipped.
func (pl *StatefulSetAware) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	setOf := func(p *v1.Pod) (set, bool) {
		s, _, ok := identity(p)
		return s, ok
	}
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.All}, QueueingHintFn: topology.PodHint(setOf, topology.Placed)},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.All}, QueueingHintFn: topology.NodeHint([]string{pl.key})},
		{Event: fwk.ClusterEvent{Resource: fwk.PersistentVolumeClaim, ActionType: fwk.Add | fwk.Update}, QueueingHintFn: pl.claimHint},
	}, nil
}

// claimHint requeues a replica when one of its own claims changes: bound to
// a volume, its zone may now decide where the replica goes.
func (pl *StatefulSetAware) claimHint(_ klog.Logger, pod *v1.Pod, _, newObj any) (fwk.QueueingHint, error) {
	claim, ok := newObj.(*v1.PersistentVolumeClaim)
	if !ok {
		return fwk.Queue, fmt.Errorf("%s: claim hint got %T", Name, newObj)
	}
	if claim.Namespace != pod.Namespace {
		return fwk.QueueSkip, nil
	}
	for _, vol := range pod.Spec.Volumes {
		if vol.PersistentVolumeClaim != nil && vol.PersistentVolumeClaim.ClaimName == claim.Name {
			return fwk.Queue, nil
		}
	}
	return fwk.QueueSkip, nil
}
