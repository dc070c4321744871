package topology

import (
	"maps"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"
)

// PodHint is the queueing hint of a topology plugin for pod events. A pod it
// rejected can fit only once its workload's counts change, so the event
// requeues it only when a pod of the same group starts or stops holding a
// place: a replica bound, deleted, finished, released by its owner or given
// to another (holds says what holds a place for the plugin). Any other pod's
// event is skipped: the room it takes or frees on a node is for the plugins
// that check room, whose own hints requeue the pod. An update of the pending
// pod itself (a toleration, an affinity) is always queued.
func PodHint[G comparable](groupOf func(*v1.Pod) (G, bool), holds func(*v1.Pod) bool) fwk.QueueingHintFn {
	return func(logger klog.Logger, pending *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
		oldPod, newPod, err := util.As[*v1.Pod](oldObj, newObj)
		if err != nil {
			return fwk.Queue, err
		}
		if newPod != nil && newPod.UID == pending.UID {
			return fwk.Queue, nil
		}
		g, ok := groupOf(pending)
		if !ok {
			return fwk.QueueSkip, nil
		}
		in := func(p *v1.Pod) bool {
			if p == nil || !holds(p) {
				return false
			}
			pg, ok := groupOf(p)
			return ok && pg == g
		}
		was, is := in(oldPod), in(newPod)
		if was != is || was && is && oldPod.Spec.NodeName != newPod.Spec.NodeName {
			logger.V(5).Info("a replica of the pod's workload was placed or removed", "pod", klog.KObj(pending), "replica", klog.KObj(newOrOld(oldPod, newPod)))
			return fwk.Queue, nil
		}
		return fwk.QueueSkip, nil
	}
}

func newOrOld(oldPod, newPod *v1.Pod) *v1.Pod {
	if newPod != nil {
		return newPod
	}
	return oldPod
}

// NodeHint is the queueing hint of a topology plugin for node events. A node
// added or removed with one of the keys adds or removes a domain, or a node
// in one; an update matters when it changes which domain the node is in or
// whether pods can go there: its labels (the keys, or what a pod's node
// affinity selects), its cordon, its taints or its allocatable. A zone that
// becomes unusable matters too: it no longer holds the others back.
// Heartbeats and condition updates are skipped.
func NodeHint(keys []string) fwk.QueueingHintFn {
	hasKey := func(n *v1.Node) bool {
		for _, k := range keys {
			if _, ok := n.Labels[k]; ok {
				return true
			}
		}
		return false
	}
	return func(_ klog.Logger, _ *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
		oldNode, newNode, err := util.As[*v1.Node](oldObj, newObj)
		if err != nil {
			return fwk.Queue, err
		}
		switch {
		case oldNode == nil:
			return queueIf(hasKey(newNode)), nil
		case newNode == nil:
			return queueIf(hasKey(oldNode)), nil
		}
		if !hasKey(oldNode) && !hasKey(newNode) {
			return fwk.QueueSkip, nil
		}
		changed := !maps.Equal(oldNode.Labels, newNode.Labels) ||
			oldNode.Spec.Unschedulable != newNode.Spec.Unschedulable ||
			!equality.Semantic.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints) ||
			!equality.Semantic.DeepEqual(oldNode.Status.Allocatable, newNode.Status.Allocatable)
		return queueIf(changed), nil
	}
}

func queueIf(b bool) fwk.QueueingHint {
	if b {
		return fwk.Queue
	}
	return fwk.QueueSkip
}
