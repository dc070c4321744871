package statefulsetaware

import (
	"context"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Placement rules, as the placements metric names them.
const (
	ruleVolumeZone      = "volume_zone"
	rulePrimaryIsolated = "primary_isolated"
	ruleOrdinalZone     = "ordinal_zone"
	ruleFewestPerZone   = "fewest_per_zone"
	ruleOther           = "other"
)

// Weights of the primary's preferences: a zone with no other replica comes
// before its ordinal's zone.
const (
	primaryIsolationScore = 70
	primaryOrdinalScore   = framework.MaxNodeScore - primaryIsolationScore
)

// PreScore needs nothing beyond PreFilter's state; it skips pods that are
// not StatefulSet replicas.
func (pl *StatefulSetAware) PreScore(_ context.Context, state fwk.CycleState, _ *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	if _, err := readState(state); err != nil {
		return fwk.NewStatus(fwk.Skip)
	}
	return nil
}

// preferredZone is the zone ordinal start+i prefers: the i-th in sorted
// order, round robin. The same zones always give the same answer, so a
// replica deleted and recreated goes back where it was, and every prefix of
// ordinals (what a scale-down leaves) is balanced. It counts from
// spec.ordinals.start: a set starting at 5 places 5, 6, 7 as another
// starting at 0 places 0, 1, 2.
func (st *cycleState) preferredZone() string {
	z := len(st.zones)
	if z == 0 {
		return ""
	}
	// An ordinal below start (a replica the controller is about to remove
	// after start moved up) still gets a zone.
	return st.zones[((st.ordinal-st.start)%z+z)%z]
}

// anyZoneWithoutReplicas reports whether some zone holds none of the set's
// other replicas.
func (st *cycleState) anyZoneWithoutReplicas() bool {
	for _, z := range st.zones {
		if st.zoneCounts[z] == 0 {
			return true
		}
	}
	return false
}

// Score: a pod whose claim is bound to a zonal volume scores its volume's
// zone 100 and the others 0, agreeing with VolumeZone. Otherwise a replica
// scores its ordinal's zone 100; the primary scores 70 for a zone with no
// other replica (when one exists) plus 30 for its ordinal's zone.
func (pl *StatefulSetAware) Score(_ context.Context, state fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	st, err := readState(state)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	zone := nodeInfo.Node().Labels[pl.key]
	if st.volumeZone != "" {
		return boolScore(zone == st.volumeZone, framework.MaxNodeScore), nil
	}
	onOrdinal := zone != "" && zone == st.preferredZone()
	if st.primary && st.anyZoneWithoutReplicas() {
		isolated := zone != "" && st.zoneCounts[zone] == 0
		return boolScore(isolated, primaryIsolationScore) + boolScore(onOrdinal, primaryOrdinalScore), nil
	}
	return boolScore(onOrdinal, framework.MaxNodeScore), nil
}

func boolScore(b bool, v int64) int64 {
	if b {
		return v
	}
	return 0
}

// ScoreExtensions returns nil: scores are already in [0, MaxNodeScore].
func (pl *StatefulSetAware) ScoreExtensions() framework.ScoreExtensions { return nil }
