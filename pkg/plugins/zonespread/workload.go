package zonespread

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
)

// OptOutAnnotation on a workload (or its pod template) takes its pods out of
// ZoneSpread's hands.
const OptOutAnnotation = "zonespread.placer.dev/opt-out"

// workload identifies the replicas counted together: a Deployment (all its
// ReplicaSets), a ReplicaSet, a StatefulSet, a Job or a ReplicationController.
type workload struct {
	Namespace, Kind, Name string
}

func (w workload) String() string { return w.Kind + " " + w.Namespace + "/" + w.Name }

// spreadKinds are the controllers whose pods are replicas worth spreading.
// DaemonSets are absent on purpose: they place one pod per node by design.
var spreadKinds = map[string]bool{
	"ReplicaSet": true, "StatefulSet": true, "Job": true, "ReplicationController": true,
}

// resolver maps a pod to its workload through its controller reference.
type resolver struct {
	// groupByDeployment counts a Deployment's ReplicaSets as one workload.
	groupByDeployment bool
	// replicaSets finds a ReplicaSet's owning Deployment; nil means rely on
	// the naming convention only.
	replicaSets appslisters.ReplicaSetLister
}

// workloadOf returns the pod's workload, or false for a pod without a
// controller of a kind ZoneSpread spreads.
func (r *resolver) workloadOf(pod *v1.Pod) (workload, bool) {
	w, ok := ownerOf(pod)
	if ok && w.Kind == "ReplicaSet" && r.groupByDeployment {
		if d, ok := r.deploymentOf(pod, w.Name); ok {
			w.Kind, w.Name = "Deployment", d
		}
	}
	return w, ok
}

// ownerOf returns the pod's own controller as a workload (a ReplicaSet, not
// its Deployment), or false as workloadOf does.
func ownerOf(pod *v1.Pod) (workload, bool) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil || !spreadKinds[ref.Kind] {
		return workload{}, false
	}
	return workload{Namespace: pod.Namespace, Kind: ref.Kind, Name: ref.Name}, true
}

// deploymentOf finds the Deployment owning a ReplicaSet: from the
// ReplicaSet's own controller reference when the lister has it, else from the
// Deployment controller's naming convention (<deployment>-<pod-template-hash>,
// the hash also being a label on the pod), so that a pod seen before its
// ReplicaSet is still counted with its Deployment.
func (r *resolver) deploymentOf(pod *v1.Pod, rsName string) (string, bool) {
	if r.replicaSets != nil {
		if rs, err := r.replicaSets.ReplicaSets(pod.Namespace).Get(rsName); err == nil {
			if owner := metav1.GetControllerOf(rs); owner != nil && owner.Kind == "Deployment" {
				return owner.Name, true
			}
			return "", false
		}
	}
	hash := pod.Labels["pod-template-hash"]
	if hash != "" && strings.HasSuffix(rsName, "-"+hash) {
		return strings.TrimSuffix(rsName, "-"+hash), true
	}
	return "", false
}
