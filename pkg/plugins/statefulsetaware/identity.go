package statefulsetaware

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// set identifies a StatefulSet.
type set struct{ Namespace, Name string }

func (s set) String() string { return "StatefulSet " + s.Namespace + "/" + s.Name }

// member is what the plugin remembers of a placed pod of a set. Whether it
// is the primary by ordinal depends on spec.ordinals.start, read at each
// cycle, so only the label selector's verdict is kept.
type member struct {
	node     string
	ordinal  int
	labelled bool // matches primarySelector
}

// identity returns the pod's set and ordinal, and false for a pod that is
// not a StatefulSet replica (or whose ordinal cannot be told).
func identity(pod *v1.Pod) (set, int, bool) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil || ref.Kind != "StatefulSet" {
		return set{}, 0, false
	}
	s := set{Namespace: pod.Namespace, Name: ref.Name}
	if v, ok := pod.Labels[appsv1.PodIndexLabel]; ok {
		if i, err := strconv.Atoi(v); err == nil && i >= 0 {
			return s, i, true
		}
	}
	// Before the pod-index label (Kubernetes < 1.28), the ordinal is the
	// name's suffix: <set>-<ordinal>.
	suffix, ok := strings.CutPrefix(pod.Name, ref.Name+"-")
	if !ok {
		return set{}, 0, false
	}
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 0 {
		return set{}, 0, false
	}
	return s, i, true
}
