package statefulsetaware

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/state"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

const stateKey fwk.StateKey = "PreFilter" + Name

// cycleState is everything Filter, Score and PostBind need about the pod's
// set, computed once per cycle in PreFilter.
type cycleState struct {
	set      set
	ordinal  int
	primary  bool
	replicas int // R: spec.replicas, or more if the pod's ordinal is beyond it
	allowed  int // R − q per zone and per node
	// protected: the cluster has enough zones for the quorum guard.
	protected  bool
	zones      []string       // the zones that exist now, sorted
	zoneCounts map[string]int // other replicas (ordinal < R) per zone
	nodeCounts map[string]int // other replicas per node
	// primaryNode is where the set's primary runs, when this pod is not it.
	primaryNode string
	// volumeZone is the zone of a zonal volume the pod's claim is bound to.
	volumeZone string
	// fewest is the least any zone that can take the pod holds, for the
	// ScheduleAnyway fallback; fewestKnown is false when no zone can.
	fewest      int
	fewestKnown bool
}

func (s *cycleState) Clone() fwk.StateData { return s }

// PreFilter reads the set's replicas and where its other replicas are, and
// decides whether the quorum guard can be met at all.
func (pl *StatefulSetAware) PreFilter(_ context.Context, state fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*framework.PreFilterResult, *fwk.Status) {
	st, ok := pl.prepare(pod)
	if !ok {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	if !st.protected && pl.policy == config.DoNotSchedule {
		quorumRejections.WithLabelValues("unprotectable").Inc()
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, unprotectableReason(st, pl.policy))
	}
	if !st.protected {
		feas := topology.NewFeasibility(pod)
		st.fewest, _, st.fewestKnown = pl.index.EffectiveMin(0, st.zoneCounts, pl.nodeInfos, feas)
	}
	state.Write(stateKey, st)
	return nil, nil
}

// prepare builds the cycle state; false for pods that are not replicas of a
// StatefulSet the lister knows (pods of a deleted set are left to others).
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
	// A pod beyond spec.replicas is one the controller created before a
	// scale-down it has not acted on yet: place it as a member of the set it
	// was made for.
	replicas = max(replicas, ordinal+1)
	st := &cycleState{
		set: s, ordinal: ordinal, primary: pl.isPrimary(pod, ordinal),
		replicas: replicas, allowed: allowedPerDomain(replicas),
		zones:      pl.index.Domains(0),
		zoneCounts: map[string]int{},
		nodeCounts: map[string]int{},
		volumeZone: pl.volumeZone(pod),
	}
	for _, z := range st.zones {
		st.zoneCounts[z] = 0
	}
	for _, m := range pl.members.Values(s) {
		// Replicas beyond R are on their way out (scale-down removes the
		// highest ordinals), and an older incarnation of this very ordinal is
		// this pod's past, not another replica.
		if m.ordinal >= replicas || m.ordinal == ordinal {
			continue
		}
		st.nodeCounts[m.node]++
		if z, ok := pl.index.DomainOf(0, m.node); ok {
			st.zoneCounts[z]++
		}
		if m.primary && !st.primary {
			st.primaryNode = m.node
		}
	}
	st.protected = protectable(replicas, len(st.zones))
	return st, true
}

func unprotectableReason(st *cycleState, policy config.QuorumPolicy) string {
	q := quorum(st.replicas)
	if st.allowed == 0 {
		return fmt.Sprintf("%s has %d replicas: losing any one zone or node loses its quorum of %d (policy %s)",
			st.set, st.replicas, q, policy)
	}
	need := (st.replicas + st.allowed - 1) / st.allowed
	return fmt.Sprintf("%s has %d replicas and needs %d zones to keep a quorum of %d through a zone's loss; the cluster has %d (policy %s)",
		st.set, st.replicas, need, q, len(st.zones), policy)
}

// PreFilterExtensions returns nil.
func (pl *StatefulSetAware) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter applies, in order: the primary stays apart from its replicas (always);
// then, when the cluster has zones enough, the quorum guard on the node and
// the zone (waived in the zone of the pod's bound volume, which VolumeZone
// requires anyway); otherwise, under ScheduleAnyway, the fewest per zone.
func (pl *StatefulSetAware) Filter(_ context.Context, state fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	st, err := readState(state)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node := nodeInfo.Node()
	if st.primary && st.nodeCounts[node.Name] > 0 {
		return reject("primary_apart", fwk.Unschedulable,
			fmt.Sprintf("node %s runs a replica of %s; its primary keeps a node of its own", node.Name, st.set))
	}
	if !st.primary && st.primaryNode == node.Name {
		return reject("primary_apart", fwk.Unschedulable,
			fmt.Sprintf("node %s runs the primary of %s; replicas keep off its node", node.Name, st.set))
	}
	zone, hasZone := node.Labels[pl.key]
	if !st.protected {
		if st.fewestKnown && hasZone && zone != st.volumeZone && st.zoneCounts[zone] > st.fewest {
			return reject("fewest_per_zone", fwk.Unschedulable, fmt.Sprintf(
				"%s=%s holds %d replicas of %s, more than the fewest (%d): quorum cannot be protected, so replicas go where they are fewest",
				pl.key, zone, st.zoneCounts[zone], st.set, st.fewest))
		}
		return nil
	}
	q := quorum(st.replicas)
	if n := st.nodeCounts[node.Name]; n+1 > st.allowed {
		return reject("node", fwk.Unschedulable, fmt.Sprintf(
			"node %s holds %d of the %d replicas of %s; one more and losing the node leaves fewer than %d (quorum)",
			node.Name, n, st.replicas, st.set, q))
	}
	if !hasZone {
		return reject("zone", fwk.UnschedulableAndUnresolvable,
			fmt.Sprintf("node has no %s label; %s is spread by it", pl.key, st.set))
	}
	if zone == st.volumeZone {
		return nil
	}
	if n := st.zoneCounts[zone]; n+1 > st.allowed {
		return reject("zone", fwk.Unschedulable, fmt.Sprintf(
			"%s=%s holds %d of the %d replicas of %s; one more and losing the zone leaves fewer than %d (quorum)",
			pl.key, zone, n, st.replicas, st.set, q))
	}
	return nil
}

func reject(reason string, code fwk.Code, msg string) *fwk.Status {
	quorumRejections.WithLabelValues(reason).Inc()
	return fwk.NewStatus(code, msg)
}

func readState(cycle fwk.CycleState) (*cycleState, error) {
	return state.Read[*cycleState](cycle, stateKey)
}

// EventsToRegister: replicas placed or removed, nodes and zones changing,
// and claims getting bound can all change what the guard allows.
func (pl *StatefulSetAware) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.All}},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.All}},
		{Event: fwk.ClusterEvent{Resource: fwk.PersistentVolumeClaim, ActionType: fwk.All}},
	}, nil
}
