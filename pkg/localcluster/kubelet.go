package localcluster

import (
	"context"
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/utils/ptr"
)

// workers is how many pods the kubelet, and each controller, handle at
// once: kube-controller-manager's default, sized for a laptop's cluster.
const workers = 5

// kubelet plays the kubelets of the simulated nodes, as KWOK does: a pod
// bound to one of them is reported Running and Ready with an IP at once, and
// a pod being deleted there is removed (its containers "stopped"). Nothing
// runs; the point is that controllers see pods become ready (a StatefulSet
// creates ordinal i+1 only then) and go away.
type kubelet struct {
	client kubernetes.Interface
	pods   corelisters.PodLister
	nodes  map[string]int // node name -> index, for pod IPs
	queue  workqueue.TypedRateLimitingInterface[string]

	mu     sync.Mutex
	nextIP map[string]int
}

func newKubelet(client kubernetes.Interface, factory informers.SharedInformerFactory, nodes []string) (*kubelet, error) {
	k := &kubelet{client: client, nodes: map[string]int{}, nextIP: map[string]int{},
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
	for i, n := range nodes {
		k.nodes[n] = i
	}
	inf := factory.Core().V1().Pods()
	k.pods = inf.Lister()
	enqueue := func(obj any) {
		if pod, ok := obj.(*v1.Pod); ok && k.ours(pod) {
			if key, err := cache.MetaNamespaceKeyFunc(pod); err == nil {
				k.queue.Add(key)
			}
		}
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	return k, err
}

func (k *kubelet) ours(pod *v1.Pod) bool {
	_, ok := k.nodes[pod.Spec.NodeName]
	return ok
}

func (k *kubelet) run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		k.queue.ShutDown()
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k.processNext(ctx) {
			}
		}()
	}
	wg.Wait()
}

func (k *kubelet) processNext(ctx context.Context) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	if err := k.sync(ctx, key); err != nil && ctx.Err() == nil {
		klog.FromContext(ctx).Error(err, "simulated kubelet", "pod", key)
		k.queue.AddRateLimited(key)
		return true
	}
	k.queue.Forget(key)
	return true
}

func (k *kubelet) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	pod, err := k.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || !k.ours(pod) {
		return err
	}
	if pod.DeletionTimestamp != nil {
		// The containers have stopped: confirm the deletion, as a kubelet
		// does once the grace period's work is done.
		err := k.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if pod.Status.Phase == v1.PodRunning {
		return nil
	}
	running := pod.DeepCopy()
	now := metav1.Now()
	running.Status.Phase = v1.PodRunning
	running.Status.HostIP = nodeIP(k.nodes[pod.Spec.NodeName])
	running.Status.HostIPs = []v1.HostIP{{IP: running.Status.HostIP}}
	running.Status.PodIP = k.podIP(pod.Spec.NodeName)
	running.Status.PodIPs = []v1.PodIP{{IP: running.Status.PodIP}}
	running.Status.StartTime = &now
	for _, t := range []v1.PodConditionType{v1.PodInitialized, v1.PodReadyToStartContainers, v1.ContainersReady, v1.PodReady} {
		podutil.UpdatePodCondition(&running.Status, &v1.PodCondition{Type: t, Status: v1.ConditionTrue})
	}
	running.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		running.Status.ContainerStatuses = append(running.Status.ContainerStatuses, v1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptr.To(true),
			State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: now}}})
	}
	_, err = k.client.CoreV1().Pods(ns).UpdateStatus(ctx, running, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or changed since: a newer event brings it back.
		return nil
	}
	return err
}

// nodeIP is the address of the i-th node.
func nodeIP(i int) string { return fmt.Sprintf("10.0.%d.%d", i/250, i%250+1) }

// podIP hands out addresses from the node's own /24, as a CNI would.
func (k *kubelet) podIP(node string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.nextIP[node]++
	i := k.nodes[node]
	return fmt.Sprintf("10.%d.%d.%d", 100+i/256, i%256, k.nextIP[node]%254+1)
}
