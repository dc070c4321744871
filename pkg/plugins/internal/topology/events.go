package topology

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// unwrap returns the object of an informer delete event, which may come
// wrapped in a tombstone when the watch missed the deletion.
func unwrap(obj any) any {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tomb.Obj
	}
	return obj
}

// PodHandler calls changed for every pod added or updated and deleted for
// every pod removed.
func PodHandler(changed, deleted func(*v1.Pod)) cache.ResourceEventHandler {
	onPod := func(f func(*v1.Pod)) func(any) {
		return func(obj any) {
			if pod, ok := unwrap(obj).(*v1.Pod); ok {
				f(pod)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    onPod(changed),
		UpdateFunc: func(_, obj any) { onPod(changed)(obj) },
		DeleteFunc: onPod(deleted),
	}
}

// Handler keeps the index in step with the node informer.
func (ix *NodeIndex) Handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ix.setObj(obj) },
		UpdateFunc: func(_, obj any) { ix.setObj(obj) },
		DeleteFunc: func(obj any) {
			if node, ok := unwrap(obj).(*v1.Node); ok {
				ix.Delete(node.Name)
			}
		},
	}
}

func (ix *NodeIndex) setObj(obj any) {
	if node, ok := obj.(*v1.Node); ok {
		ix.Set(node)
	}
}

// Watch subscribes a plugin's pod handlers and node index to the
// scheduler's informers, from which they keep the plugin's counts, and
// returns the scheduler's snapshot of the nodes, which the plugin's Filter
// and Score read. Errors name the plugin.
func Watch(plugin string, h framework.Handle, pods cache.ResourceEventHandler, nodes *NodeIndex) (framework.NodeInfoLister, error) {
	inf := h.SharedInformerFactory().Core().V1()
	if _, err := inf.Pods().Informer().AddEventHandler(pods); err != nil {
		return nil, fmt.Errorf("%s: watching pods and nodes: %w", plugin, err)
	}
	if _, err := inf.Nodes().Informer().AddEventHandler(nodes.Handler()); err != nil {
		return nil, fmt.Errorf("%s: watching pods and nodes: %w", plugin, err)
	}
	return h.SnapshotSharedLister().NodeInfos(), nil
}
