package statefulsetaware

import (
	"context"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// Reserve records the replica where it is about to be bound, so that the
// next replica's cycle sees it before the informer does.
func (pl *StatefulSetAware) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	if s, ordinal, ok := identity(pod); ok {
		pl.members.Place(s, pod.UID, pl.memberOf(pod, nodeName, ordinal))
	}
	return nil
}

// Unreserve takes back what Reserve recorded when binding does not happen.
func (pl *StatefulSetAware) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) {
	pl.members.RemoveIf(pod.UID, func(m member) bool { return m.node == nodeName })
}

// PostBind counts the placement by the rule that decided it and, when the
// quorum could not be protected, tells the pod so in a warning event.
func (pl *StatefulSetAware) PostBind(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) {
	st, err := readState(state)
	if err != nil {
		return
	}
	zone, _ := pl.index.DomainOf(0, nodeName)
	rule := ruleOther
	switch {
	case st.volumeZone != "" && zone == st.volumeZone:
		rule = ruleVolumeZone
	case !st.protected:
		rule = ruleFewestPerZone
	case st.primary && st.anyZoneWithoutReplicas() && st.zoneCounts[zone] == 0:
		rule = rulePrimaryIsolated
	case zone != "" && zone == st.preferredZone():
		rule = ruleOrdinalZone
	}
	placements.WithLabelValues(rule).Inc()
	if !st.protected && pl.recorder != nil {
		// The note goes through a format string: pass it as an argument.
		pl.recorder.Eventf(pod, nil, v1.EventTypeWarning, "QuorumAtRisk", "Scheduling", "%s",
			unprotectableReason(st, pl.policy)+": placed where the set has the fewest replicas")
	}
}
