package runner

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/placer-dev/placer/pkg/bench/quality"
)

// deploymentOf maps each Deployment's ReplicaSet (namespace/name) to the
// Deployment's name, so that pods count under the workload users know.
func (r *run) deploymentOf() map[string]string {
	out := map[string]string{}
	for _, insts := range r.created {
		for _, inst := range insts {
			if rs := inst.ReplicaSet; rs != nil {
				// The ReplicaSet's controller reference names its Deployment.
				if ref := metav1.GetControllerOf(rs); ref != nil {
					out[rs.Namespace+"/"+rs.Name] = ref.Name
				}
			}
		}
	}
	return out
}

// ownerOf is a pod's workload: its controller, or for a ReplicaSet of a
// Deployment of the run, the Deployment.
func (res *Result) ownerOf(pod *v1.Pod) (kind, name string) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return "", ""
	}
	if ref.Kind == "ReplicaSet" {
		if d, ok := res.deploymentOf[pod.Namespace+"/"+ref.Name]; ok {
			return "Deployment", d
		}
	}
	return ref.Kind, ref.Name
}

// qualityNodes are the nodes at the end of the run that no drill has
// taken down.
func (r *run) qualityNodes() []quality.Node {
	var out []quality.Node
	for _, name := range r.liveNodes() {
		n := r.nodes[name]
		out = append(out, quality.Node{Name: name, Zone: r.zones[name], Allocatable: n.Status.Allocatable})
	}
	return out
}

// qualityPods are the pods alive at the end (or now, during the run).
func (res *Result) qualityPods() []quality.Pod {
	var out []quality.Pod
	for _, rec := range res.records {
		if rec.deleted || rec.pod == nil {
			continue
		}
		kind, name := res.ownerOf(rec.pod)
		p := quality.Pod{Namespace: rec.pod.Namespace, Name: rec.pod.Name, OwnerKind: kind, OwnerName: name,
			Node: rec.node, Unschedulable: rec.unschedulable, Reason: rec.reason}
		if len(rec.pod.Spec.Containers) > 0 {
			p.Requests = resourcehelper.PodRequests(rec.pod, resourcehelper.PodResourcesOptions{})
		}
		out = append(out, p)
	}
	return out
}

// qualityPods during the run, for the drills.
func (r *run) qualityPods() []quality.Pod {
	res := &Result{records: r.tracker.snapshot(), deploymentOf: r.deploymentOf()}
	return res.qualityPods()
}
