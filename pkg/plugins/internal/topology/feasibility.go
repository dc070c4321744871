package topology

import (
	v1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	fwk "k8s.io/kube-scheduler/framework"
	schedutil "k8s.io/kubernetes/pkg/scheduler/util"
)

// Feasibility answers "could this pod run on that node at all?" for the
// node-level constraints other plugins enforce: cordons, taints, required
// node affinity and node selector, and free resources. The topology plugins
// use it to find the domains that can take the pod, so that a zone that
// cannot (full, cordoned, tainted, or excluded by affinity) does not hold the
// others back. Constraints that involve other pods (inter-pod affinity,
// volume topology, ports) are not checked: a domain blocked only by those
// still counts.
type Feasibility struct {
	pod      *v1.Pod
	affinity nodeaffinity.RequiredNodeAffinity
	requests v1.ResourceList
}

// NewFeasibility prepares the checks for pod once per scheduling cycle.
func NewFeasibility(pod *v1.Pod) *Feasibility {
	return &Feasibility{
		pod:      pod,
		affinity: nodeaffinity.GetRequiredNodeAffinity(pod),
		requests: resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}),
	}
}

var unschedulableTaint = &v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}

// Fits reports whether the pod passes the node-level checks on ni.
func (f *Feasibility) Fits(ni fwk.NodeInfo) bool {
	node := ni.Node()
	if node == nil {
		return false
	}
	if node.Spec.Unschedulable && !v1helper.TolerationsTolerateTaint(f.pod.Spec.Tolerations, unschedulableTaint) {
		return false
	}
	if _, untolerated := v1helper.FindMatchingUntoleratedTaint(node.Spec.Taints, f.pod.Spec.Tolerations, func(t *v1.Taint) bool {
		return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
	}); untolerated {
		return false
	}
	if ok, err := f.affinity.Match(node); err != nil || !ok {
		return false
	}
	return f.resourcesFit(ni)
}

func (f *Feasibility) resourcesFit(ni fwk.NodeInfo) bool {
	alloc, req := ni.GetAllocatable(), ni.GetRequested()
	if len(ni.GetPods())+1 > alloc.GetAllowedPodNumber() {
		return false
	}
	for name, q := range f.requests {
		var have, used, want int64
		switch name {
		case v1.ResourceCPU:
			have, used, want = alloc.GetMilliCPU(), req.GetMilliCPU(), q.MilliValue()
		case v1.ResourceMemory:
			have, used, want = alloc.GetMemory(), req.GetMemory(), q.Value()
		case v1.ResourceEphemeralStorage:
			have, used, want = alloc.GetEphemeralStorage(), req.GetEphemeralStorage(), q.Value()
		default:
			if !schedutil.IsScalarResourceName(name) {
				continue
			}
			have, used, want = alloc.GetScalarResources()[name], req.GetScalarResources()[name], q.Value()
		}
		if want > 0 && want > have-used {
			return false
		}
	}
	return true
}
