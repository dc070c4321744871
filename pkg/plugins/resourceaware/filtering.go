package resourceaware

import (
	"context"
	"fmt"
	"math/bits"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/component-base/metrics"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"

	"github.com/placer-dev/placer/pkg/plugins/internal/state"
)

const preFilterStateKey fwk.StateKey = "PreFilter" + Name

// ceiling is a headroom guard on one resource.
type ceiling struct {
	name    v1.ResourceName
	percent int64
	// rejected counts this ceiling's rejections, looked up once: Filter
	// runs per node. A no-op until the metrics are registered.
	rejected metrics.CounterMetric
}

// preFilterState holds the pod's requests for the resources that have a
// ceiling, in the order of ResourceAware.ceilings.
type preFilterState struct {
	requests []int64
	// gpu is the pod's GPU demand, when the device accounting is on.
	gpu gpuDemand
}

func (s *preFilterState) Clone() fwk.StateData { return s }

// PreFilter computes the pod's requests for the guarded resources once per
// cycle. When the pod asks for none of them, placing it can push no node over
// a ceiling, and Filter is skipped altogether.
func (pl *ResourceAware) PreFilter(_ context.Context, state fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*framework.PreFilterResult, *fwk.Status) {
	if len(pl.ceilings) == 0 && pl.gpu == nil {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	reqs := pl.requests.podRequests(pod, false)
	s := &preFilterState{requests: make([]int64, len(pl.ceilings))}
	any := false
	for i, c := range pl.ceilings {
		s.requests[i] = amount(reqs, c.name)
		any = any || s.requests[i] > 0
	}
	if pl.gpu != nil {
		d, err := pl.gpu.demand(pod, pl.requests)
		if err != nil {
			return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, err.Error())
		}
		if !d.none() && !pl.podsSynced() {
			return nil, fwk.AsStatus(fmt.Errorf("GPU device accounting is still reading the pods bound before the scheduler started"))
		}
		s.gpu = d
		any = any || !d.none() || len(d.models) > 0
	}
	if !any {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	state.Write(preFilterStateKey, s)
	return nil, nil
}

// PreFilterExtensions returns nil: the guard looks at the pod's own requests
// and the node's totals, which the framework already updates when it
// simulates adding or removing pods for preemption.
func (pl *ResourceAware) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter rejects a node on which the pod would push a guarded resource past
// its ceiling. The reason names the resource, the node's figure and the
// ceiling, so that kubectl describe pod explains an unschedulable pod.
// Only resources the pod requests are checked: a pod that asks for none of a
// resource cannot push it higher, even on a node already above its ceiling.
func (pl *ResourceAware) Filter(_ context.Context, cycle fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	s, err := state.Read[*preFilterState](cycle, preFilterStateKey)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if pl.gpu != nil && (!s.gpu.none() || len(s.gpu.models) > 0) {
		if st := pl.filterDevices(s.gpu, nodeInfo); !st.IsSuccess() {
			return st
		}
	}
	for i, ceil := range pl.ceilings {
		req := s.requests[i]
		if req == 0 {
			continue
		}
		alloc, requested := nodeAmounts(nodeInfo, ceil.name, false)
		if alloc <= 0 {
			// Nothing to guard; NodeResourcesFit rejects a pod asking for a
			// resource the node does not have.
			continue
		}
		after := addSaturating(requested, req)
		if exceeds(after, alloc, ceil.percent) {
			ceil.rejected.Inc()
			return fwk.NewStatus(fwk.Unschedulable, ceilingReason(ceil, after, alloc))
		}
	}
	return nil
}

// exceeds reports whether after/alloc > percent/100, exactly: the products
// are compared in 128 bits, so no figure a node can report overflows.
func exceeds(after, alloc, percent int64) bool {
	hiA, loA := bits.Mul64(uint64(after), 100)
	hiB, loB := bits.Mul64(uint64(alloc), uint64(percent))
	return hiA > hiB || (hiA == hiB && loA > loB)
}

// ceilingReason writes "percent", not "%": the scheduler passes filter
// reasons to its event recorder as a format string, where a "%" turns into
// "%!r(MISSING)" in kubectl describe.
func ceilingReason(c ceiling, after, alloc int64) string {
	pct := float64(after) * 100 / float64(alloc)
	return fmt.Sprintf("%s would be %.0f percent requested (%s of %s), above the %d percent ceiling",
		c.name, pct, quantity(c.name, after), quantity(c.name, alloc), c.percent)
}

// quantity formats an amount the way kubectl shows the resource.
func quantity(name v1.ResourceName, v int64) string {
	switch name {
	case v1.ResourceCPU:
		return resource.NewMilliQuantity(v, resource.DecimalSI).String()
	case v1.ResourceMemory, v1.ResourceEphemeralStorage:
		return resource.NewQuantity(v, resource.BinarySI).String()
	default:
		return resource.NewQuantity(v, resource.DecimalSI).String()
	}
}

// EventsToRegister lists what can make a node pass the guard or the device
// accounting again: a node added, given more allocatable or (devices on)
// relabelled, or a pod removed or scaled down. The hints requeue a pod
// only when the event concerns a guarded resource it asks for (more of it
// on a node, or an assigned pod freeing some) or the GPU devices it asks
// for (gpuNodeHint; an assigned pod holding devices deleted).
func (pl *ResourceAware) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	nodeActions := fwk.Add | fwk.UpdateNodeAllocatable
	if pl.gpu != nil {
		nodeActions |= fwk.UpdateNodeLabel
	}
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: nodeActions}, QueueingHintFn: pl.nodeHint},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Delete | fwk.UpdatePodScaleDown}, QueueingHintFn: pl.podHint},
	}, nil
}

// guarded returns the guarded resources pod asks for.
func (pl *ResourceAware) guarded(pod *v1.Pod) []v1.ResourceName {
	reqs := pl.requests.podRequests(pod, false)
	var out []v1.ResourceName
	for _, c := range pl.ceilings {
		if amount(reqs, c.name) > 0 {
			out = append(out, c.name)
		}
	}
	return out
}

// nodeHint: a node added with some of a guarded resource the pod asks for,
// or given more of it; or a node that may now have GPU devices for it
// (gpuNodeHint).
func (pl *ResourceAware) nodeHint(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldNode, newNode, err := util.As[*v1.Node](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	for _, name := range pl.guarded(pod) {
		have := nodeAllocatable(newNode, name)
		if have > 0 && (oldNode == nil || have > nodeAllocatable(oldNode, name)) {
			return fwk.Queue, nil
		}
	}
	if pl.gpuNodeHint(pod, oldNode, newNode) {
		return fwk.Queue, nil
	}
	return fwk.QueueSkip, nil
}

// gpuNodeHint: for a pod asking for GPU devices or models, a node of a
// model it accepts that is added with GPUs, given more GPUs, or whose
// model label turns to one it accepts. A pod asking for models and no GPU
// needs only the label.
func (pl *ResourceAware) gpuNodeHint(pod *v1.Pod, oldNode, newNode *v1.Node) bool {
	if pl.gpu == nil {
		return false
	}
	d, err := pl.gpu.demand(pod, pl.requests)
	if err != nil || (d.none() && len(d.models) == 0) || !pl.gpu.modelAccepted(d, newNode) {
		return false // an unreadable demand waits for the pod to change
	}
	if !d.none() {
		have := nodeAllocatable(newNode, pl.gpu.resource)
		if have == 0 {
			return false
		}
		if oldNode == nil || have > nodeAllocatable(oldNode, pl.gpu.resource) {
			return true
		}
	}
	return oldNode == nil || !pl.gpu.modelAccepted(d, oldNode)
}

func nodeAllocatable(n *v1.Node, name v1.ResourceName) int64 {
	q, ok := n.Status.Allocatable[name]
	if !ok {
		return 0
	}
	if name == v1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// podHint: an assigned pod deleted, or scaled down, that frees some of a
// guarded resource the pod asks for (a pod slot, when it is deleted); or,
// deleted, GPU devices, when the pod asks for some.
func (pl *ResourceAware) podHint(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldPod, newPod, err := util.As[*v1.Pod](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	if oldPod == nil || oldPod.Spec.NodeName == "" {
		return fwk.QueueSkip, nil // an unassigned pod held no room
	}
	before := pl.requests.podRequests(oldPod, false)
	var after v1.ResourceList // deleted: it frees all it asked for
	if newPod != nil {
		after = pl.requests.podRequests(newPod, false)
	}
	for _, name := range pl.guarded(pod) {
		if amount(after, name) < amount(before, name) || name == v1.ResourcePods && newPod == nil {
			return fwk.Queue, nil
		}
	}
	if newPod == nil && pl.asksForDevices(oldPod) && pl.asksForDevices(pod) {
		return fwk.Queue, nil
	}
	return fwk.QueueSkip, nil
}

// asksForDevices reports whether pod asks for GPU devices, a share or
// whole GPUs: an assigned one deleted frees devices a pending one may fit
// on.
func (pl *ResourceAware) asksForDevices(pod *v1.Pod) bool {
	if pl.gpu == nil {
		return false
	}
	d, err := pl.gpu.demand(pod, pl.requests)
	return err == nil && !d.none()
}
