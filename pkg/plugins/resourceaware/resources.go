package resourceaware

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	fwk "k8s.io/kube-scheduler/framework"
	schedutil "k8s.io/kubernetes/pkg/scheduler/util"
)

// requestOptions are the feature-gated choices of how a pod's requests are
// summed; they follow the scheduler's feature gates so that ResourceAware
// and NodeResourcesFit see the same pod.
type requestOptions struct {
	useStatusResources bool
	podLevelResources  bool
}

// nonZeroDefaults stand in for missing cpu and memory requests when scoring,
// as upstream's scorers do: a pod that requests nothing still uses something,
// and without this every best-effort pod would land on the same node.
var nonZeroDefaults = v1.ResourceList{
	v1.ResourceCPU:    *resource.NewMilliQuantity(schedutil.DefaultMilliCPURequest, resource.DecimalSI),
	v1.ResourceMemory: *resource.NewQuantity(schedutil.DefaultMemoryRequest, resource.DecimalSI),
}

// podRequests sums the pod's requests (with overhead and init containers, as
// the scheduler does). With nonZero, missing cpu and memory requests count as
// the scheduler's non-zero defaults.
func (o requestOptions) podRequests(pod *v1.Pod, nonZero bool) v1.ResourceList {
	opts := resourcehelper.PodResourcesOptions{
		UseStatusResources:    o.useStatusResources,
		SkipPodLevelResources: !o.podLevelResources,
	}
	if nonZero {
		opts.NonMissingContainerRequests = nonZeroDefaults
	}
	return resourcehelper.PodRequests(pod, opts)
}

// amount is how much of one resource a pod asks for, in the unit the
// scheduler's NodeInfo counts it in (millicores for cpu, 1 per pod for pods).
func amount(requests v1.ResourceList, name v1.ResourceName) int64 {
	switch name {
	case v1.ResourcePods:
		return 1
	case v1.ResourceCPU:
		q := requests[name]
		return q.MilliValue()
	default:
		q := requests[name]
		return q.Value()
	}
}

// isExtended reports whether a resource is one the node advertises beyond the
// standard ones (nvidia.com/gpu, hugepages-2Mi, ...). The scheduler keeps
// those in NodeInfo's scalar resources.
func isExtended(name v1.ResourceName) bool {
	return schedutil.IsScalarResourceName(name)
}

// nodeAmounts returns what a node has of one resource (allocatable) and what
// the pods on it have promised (requested). nonZero selects the scheduler's
// non-zero view of cpu and memory, the one scoring uses.
func nodeAmounts(nodeInfo fwk.NodeInfo, name v1.ResourceName, nonZero bool) (allocatable, requested int64) {
	alloc := nodeInfo.GetAllocatable()
	req := nodeInfo.GetRequested()
	switch name {
	case v1.ResourceCPU:
		if nonZero {
			return alloc.GetMilliCPU(), nodeInfo.GetNonZeroRequested().GetMilliCPU()
		}
		return alloc.GetMilliCPU(), req.GetMilliCPU()
	case v1.ResourceMemory:
		if nonZero {
			return alloc.GetMemory(), nodeInfo.GetNonZeroRequested().GetMemory()
		}
		return alloc.GetMemory(), req.GetMemory()
	case v1.ResourceEphemeralStorage:
		return alloc.GetEphemeralStorage(), req.GetEphemeralStorage()
	case v1.ResourcePods:
		return int64(alloc.GetAllowedPodNumber()), int64(len(nodeInfo.GetPods()))
	default:
		return alloc.GetScalarResources()[name], req.GetScalarResources()[name]
	}
}

// addSaturating adds two non-negative amounts without wrapping around: a
// node reporting absurd figures must not turn full into empty.
func addSaturating(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}
