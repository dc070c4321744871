package result

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/placer-dev/placer/pkg/explanation"
)

// Placement is one pod and where it went: in a run's export, anyone can
// check it independently; in the test kit, tests assert on it.
type Placement struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Workload is the instance the pod belongs to: its "app" label (which
	// the harness's and the kit's pods carry), else its owner's name, else
	// its own name.
	Workload string `json:"workload,omitempty"`
	// OwnerKind is Deployment, StatefulSet, Job or another controller's
	// kind (a Deployment's pods count under the Deployment, not their
	// ReplicaSet), empty for bare pods; OwnerName names it.
	OwnerKind string `json:"ownerKind,omitempty"`
	OwnerName string `json:"ownerName,omitempty"`
	// Ordinal is a StatefulSet replica's ordinal; nil for other pods.
	Ordinal *int `json:"ordinal,omitempty"`
	// Node is where the pod is bound, empty when it is not; Zone is the
	// node's topology.kubernetes.io/zone label.
	Node string `json:"node,omitempty"`
	Zone string `json:"zone,omitempty"`
	// Requests are the pod's effective requests, as the scheduler counts
	// them.
	Requests v1.ResourceList `json:"requests,omitempty"`
	// Deleted pods (churn, scale-down, preemption, drills) are listed with
	// where they were; the final placement is the others.
	Deleted bool `json:"deleted,omitempty"`
	// Unschedulable and Reason: the scheduler's last verdict on a pod that
	// is not bound (PodScheduled False, reason Unschedulable), and its
	// message: why no node would take it, plugin by plugin.
	Unschedulable bool   `json:"unschedulable,omitempty"`
	Reason        string `json:"reason,omitempty"`
	// Explanation is what the Explain plugin wrote on the pod, when the
	// pod was explained (placer-bench run --explain, pkg/plugins/explain/README.md).
	Explanation *explanation.Explanation `json:"explanation,omitempty"`
}

// Bound reports whether the pod has a node.
func (p Placement) Bound() bool { return p.Node != "" }

// PlacementOf reads a pod's placement; zoneOf maps node names to zones. An
// unbound pod's verdict is read from its PodScheduled condition.
func PlacementOf(pod *v1.Pod, zoneOf map[string]string) Placement {
	p := Placement{Namespace: pod.Namespace, Name: pod.Name, Workload: pod.Name,
		Node: pod.Spec.NodeName, Zone: zoneOf[pod.Spec.NodeName]}
	p.OwnerKind, p.OwnerName = OwnerOf(pod)
	if value, ok := pod.Annotations[explanation.Annotation]; ok {
		// An annotation that does not decode (not the plugin's) is left out.
		p.Explanation, _ = explanation.Decode(value)
	}
	if p.OwnerName != "" {
		p.Workload = p.OwnerName
	}
	if app, ok := pod.Labels["app"]; ok {
		p.Workload = app
	}
	if v, ok := pod.Labels[appsv1.PodIndexLabel]; ok {
		if i, err := strconv.Atoi(v); err == nil {
			p.Ordinal = &i
		}
	}
	if len(pod.Spec.Containers) > 0 {
		p.Requests = resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	}
	if p.Node == "" {
		for _, c := range pod.Status.Conditions {
			if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse {
				p.Reason = c.Message
				p.Unschedulable = c.Reason == v1.PodReasonUnschedulable
			}
		}
	}
	return p
}

// OwnerOf is a pod's workload as users know it: its controller, except
// that the pods of a Deployment's ReplicaSet (named <deployment>-<hash> and
// labelled with that pod-template-hash, as the Deployment controller makes
// it) count under the Deployment. Bare pods have none.
func OwnerOf(pod *v1.Pod) (kind, name string) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return "", ""
	}
	if hash, ok := pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok && ref.Kind == "ReplicaSet" {
		if d, found := strings.CutSuffix(ref.Name, "-"+hash); found && d != "" {
			return "Deployment", d
		}
	}
	return ref.Kind, ref.Name
}
