package replay

import (
	"strconv"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/gpushare"
)

const (
	// GPUResource is the extended resource a trace's GPUs become.
	GPUResource v1.ResourceName = gpushare.Resource
	// ModelLabel carries a node's GPU model, under the key NVIDIA's GPU
	// feature discovery uses, so that a pod's accepted models become a
	// required node affinity a stock scheduler honours.
	ModelLabel = gpushare.ModelLabel
	// Namespace holds a replay's pods.
	Namespace = "trace"
	// maxPodsPerNode: the trace's machines have no pod limit (nor has the
	// FGD simulator), so the node's pod count never decides a placement.
	maxPodsPerNode = 1000
)

// node turns a trace node into a Kubernetes node with its capacity.
func node(n *trace.Node, runID string) *v1.Node {
	alloc := v1.ResourceList{
		v1.ResourceCPU:    *resource.NewMilliQuantity(n.CPUMilli, resource.DecimalSI),
		v1.ResourceMemory: *resource.NewQuantity(n.MemoryMiB<<20, resource.BinarySI),
		v1.ResourcePods:   *resource.NewQuantity(maxPodsPerNode, resource.DecimalSI),
	}
	if n.GPUs > 0 {
		alloc[GPUResource] = *resource.NewQuantity(n.GPUs, resource.DecimalSI)
	}
	labels := map[string]string{generate.RunLabel: runID, generate.HostnameLabel: n.Name}
	for k, v := range n.Labels {
		labels[k] = v
	}
	if n.GPUModel != "" {
		labels[ModelLabel] = n.GPUModel
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels},
		Status: v1.NodeStatus{
			Capacity: alloc.DeepCopy(), Allocatable: alloc,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady"}},
			Phase:      v1.NodeRunning,
		},
	}
}

// pod turns a trace pod into a bare pod for schedulerName. A GPU-sharing
// pod asks for one whole nvidia.com/gpu with result.GPUSharingWhole; with
// result.GPUSharingShare it asks for its share with
// gpushare.ShareAnnotation and no nvidia.com/gpu, as the ResourceAware
// plugin wants a share asked for.
func pod(p *trace.Pod, runID, schedulerName, gpuSharing string) *v1.Pod {
	requests := v1.ResourceList{
		v1.ResourceCPU:    *resource.NewMilliQuantity(p.CPUMilli, resource.DecimalSI),
		v1.ResourceMemory: *resource.NewQuantity(p.MemoryMiB<<20, resource.BinarySI),
	}
	var limits v1.ResourceList
	var annotations map[string]string
	if offeredAsShare(p, gpuSharing) {
		annotations = map[string]string{gpushare.ShareAnnotation: strconv.FormatInt(p.GPUMilli, 10)}
	} else if g := p.WholeGPUs(); g > 0 {
		q := *resource.NewQuantity(g, resource.DecimalSI)
		// An extended resource must be limited to what is requested.
		requests[GPUResource], limits = q, v1.ResourceList{GPUResource: q}
	}
	zero := int64(0)
	out := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: Namespace, Annotations: annotations,
			Labels: map[string]string{generate.RunLabel: runID, shapeLabel: p.Shape()}},
		Spec: v1.PodSpec{
			SchedulerName:                 schedulerName,
			TerminationGracePeriodSeconds: &zero,
			NodeSelector:                  p.NodeSelector,
			Containers: []v1.Container{{Name: "task", Image: "registry.k8s.io/pause:3.10",
				Resources: v1.ResourceRequirements{Requests: requests, Limits: limits}}},
		},
	}
	if p.Owner != "" {
		out.Labels[ownerLabel] = p.Owner
	}
	if len(p.GPUModels) > 0 {
		out.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
				MatchExpressions: []v1.NodeSelectorRequirement{{Key: ModelLabel, Operator: v1.NodeSelectorOpIn, Values: p.GPUModels}},
			}}},
		}}
	}
	return out
}

// offeredAsShare reports a pod offered with the share annotation: a
// GPU-sharing pod under result.GPUSharingShare.
func offeredAsShare(p *trace.Pod, gpuSharing string) bool {
	return gpuSharing == result.GPUSharingShare && p.Sharing()
}

const (
	shapeLabel = "bench.placer.dev/trace-shape"
	ownerLabel = "bench.placer.dev/trace-owner"
)

// unschedulable reports the scheduler's verdict that pod fits nowhere.
func unschedulable(pod *v1.Pod) (bool, string) {
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable {
			return true, c.Message
		}
	}
	return false, ""
}
