package resourceaware

import (
	"context"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

const placementStateKey fwk.StateKey = "Reserve" + Name

// placementState is what Reserve learnt about the chosen node, for PostBind
// to count once the binding has succeeded.
type placementState struct {
	outcome string
}

func (s *placementState) Clone() fwk.StateData { return s }

// Reserve notes, for a pod that requests none of the scarce resources,
// whether the node chosen for it has one. The node is read here, in the
// scheduling cycle, because the snapshot is only safe to read there;
// counting waits for PostBind so that a failed binding is not counted.
func (pl *ResourceAware) Reserve(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	if pl.gpu != nil {
		if st := pl.reserveDevices(state, pod, nodeName); !st.IsSuccess() {
			return st
		}
	}
	if len(pl.scarce) == 0 || pl.nodeInfos == nil {
		return nil
	}
	// PreScore does not run when a single node is feasible: recompute then.
	s := pl.readPreScore(state, pod)
	if len(s.unrequestedScarce) == 0 {
		return nil
	}
	nodeInfo, err := pl.nodeInfos.Get(nodeName)
	if err != nil {
		return nil
	}
	outcome := placementOtherNode
	if scarceScore(nodeInfo, s.unrequestedScarce) == 0 {
		outcome = placementScarceNode
	}
	state.Write(placementStateKey, &placementState{outcome: outcome})
	return nil
}

// Unreserve gives back the devices Reserve took: the binding failed, so
// no annotation will record them again.
func (pl *ResourceAware) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	if pl.gpu != nil {
		pl.ledger.remove(pod.UID)
	}
}

// PostBind counts the placement Reserve classified.
func (pl *ResourceAware) PostBind(_ context.Context, state fwk.CycleState, _ *v1.Pod, _ string) {
	c, err := state.Read(placementStateKey)
	if err != nil {
		return
	}
	if s, ok := c.(*placementState); ok {
		scarcePlacements.WithLabelValues(s.outcome).Inc()
	}
}
