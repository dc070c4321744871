package measure

import (
	"context"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/placer-dev/placer/pkg/bench/generate"
)

// WatchRunPods calls observe with every added or updated pod carrying the
// run's label (in namespace; empty: all), and forget with every deleted one,
// until the returned func stops it. It returns once the informer has synced.
func WatchRunPods(ctx context.Context, client kubernetes.Interface, runID, namespace string, observe, forget func(*v1.Pod)) (func(), error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = generate.RunLabel + "=" + runID
		}))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(podHandler(func(*v1.Pod) bool { return true }, observe, forget)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return func() { cancel(); factory.Shutdown() }, nil
}

// podHandler turns an informer's events about the pods keep accepts into
// calls of observe (added or updated) and forget (deleted, also when the
// informer learnt of it late and holds only the last state it knew).
func podHandler(keep func(*v1.Pod) bool, observe, forget func(*v1.Pod)) cache.ResourceEventHandler {
	onPod := func(obj any) {
		if pod, ok := obj.(*v1.Pod); ok && keep(pod) {
			observe(pod)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    onPod,
		UpdateFunc: func(_, obj any) { onPod(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*v1.Pod); ok && keep(pod) {
				forget(pod)
			}
		},
	}
}
