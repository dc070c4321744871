package memapi

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
)

var podsResource = v1.SchemeGroupVersion.WithResource("pods")

// NewClientset returns a clientset backed by store. Events are accepted and
// dropped: nothing in the harness reads them back, and at 100,000 pods they
// would only cost memory. Unlike an API server, the store applies no
// defaults: objects must be complete (the harness's generators make them
// so; a pod without schedulerName is no scheduler's).
func NewClientset(store *Store) *fake.Clientset {
	cs := fake.NewClientset()
	// Reactors run most recently prepended first: the catch-all goes in
	// first, the special cases in front of it.
	cs.PrependReactor("*", "*", k8stesting.ObjectReaction(store))
	cs.PrependWatchReactor("*", func(action k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := action.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		w, err := store.Watch(action.GetResource(), action.GetNamespace(), opts)
		return true, w, err
	})
	cs.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		ca, ok := action.(k8stesting.CreateActionImpl)
		if !ok || ca.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b, ok := ca.GetObject().(*v1.Binding)
		if !ok {
			return true, nil, fmt.Errorf("pods/binding wants a Binding, got %T", ca.GetObject())
		}
		// The fake typed client takes the namespace from the Binding, not
		// the request; the scheduler's binder sets both.
		ns := action.GetNamespace()
		if ns == "" {
			ns = b.Namespace
		}
		return true, b, store.Bind(ns, b)
	})
	cs.PrependReactor("delete", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		da, ok := action.(k8stesting.DeleteActionImpl)
		if !ok || da.GetSubresource() != "" {
			return false, nil, nil
		}
		return store.deletePod(da.GetNamespace(), da.GetName(), da.DeleteOptions)
	})
	for _, verb := range []string{"create", "update", "patch"} {
		cs.PrependReactor(verb, "events", func(action k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, nil
		})
	}
	return cs
}

// Bind does what the API server's pods/binding does: set the pod's node and
// its PodScheduled condition, refusing a pod that is already bound.
func (s *Store) Bind(namespace string, b *v1.Binding) error {
	return s.mutate(podsResource, namespace, b.Name, func(obj runtime.Object) error {
		pod := obj.(*v1.Pod)
		if b.UID != "" && b.UID != pod.UID {
			return apierrors.NewConflict(podsResource.GroupResource(), b.Name,
				fmt.Errorf("binding names UID %s, the pod has %s", b.UID, pod.UID))
		}
		if pod.Spec.NodeName != "" {
			return apierrors.NewConflict(podsResource.GroupResource(), b.Name,
				fmt.Errorf("pod is already bound to %s", pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		podutil.UpdatePodCondition(&pod.Status, &v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionTrue})
		return nil
	})
}

// KubeletStopDelay is how long a bound pod deleted with a grace period stays
// terminating before the memory backend removes it, as a kubelet would once
// its containers stopped. The harness itself deletes with a grace period of
// zero; the scheduler deletes preemption victims gracefully, and a victim
// vanishing at once would let the scheduler's next attempt, made before its
// informer saw the deletion, pick the same victim again and fail.
const KubeletStopDelay = time.Second

// deletePod deletes a pod the way the API server does: at once when it is
// not bound or the grace period is zero, otherwise by marking it terminating
// (deletionTimestamp) and removing it after KubeletStopDelay.
func (s *Store) deletePod(namespace, name string, opts metav1.DeleteOptions) (bool, runtime.Object, error) {
	obj, err := s.Get(podsResource, namespace, name)
	if err != nil {
		return true, nil, err
	}
	pod := obj.(*v1.Pod)
	if pod.Spec.NodeName == "" || (opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds == 0) {
		return true, pod, s.Delete(podsResource, namespace, name)
	}
	if pod.DeletionTimestamp != nil {
		return true, pod, nil
	}
	grace := int64(v1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	uid := pod.UID
	err = s.mutate(podsResource, namespace, name, func(obj runtime.Object) error {
		p := obj.(*v1.Pod)
		now := metav1.Now()
		p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &grace
		return nil
	})
	if err != nil {
		return true, nil, err
	}
	time.AfterFunc(KubeletStopDelay, func() {
		// Only the pod marked here: a pod recreated under the name stays.
		_ = s.deleteIf(podsResource, namespace, name, func(obj runtime.Object) bool { return obj.(*v1.Pod).UID == uid })
	})
	return true, pod, nil
}
