package sim

// Volume provisioning for zonal storage: the parts a real cluster's storage
// stack plays for a StatefulSet's claims, without any storage. It creates
// the StorageClasses a workload names (WaitForFirstConsumer), and when the
// scheduler picks a node for a pod with an unbound claim (the selected-node
// annotation), it creates a PersistentVolume in that node's zone and binds
// the claim to it, as an external provisioner and the PV controller would.
// The volume's zone then holds the replica to it for the rest of its life,
// as in a real cluster.

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/component-helpers/storage/volume"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
)

// Provisioner is the provisioner name on the StorageClasses it makes.
const Provisioner = "bench.placer.dev/zonal"

// EnsureStorageClass creates a WaitForFirstConsumer class served by this
// provisioner, labelled with the run, unless a class of that name exists.
func EnsureStorageClass(ctx context.Context, c kubernetes.Interface, name, runID string) error {
	mode := storagev1.VolumeBindingWaitForFirstConsumer
	_, err := c.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: name, Labels: map[string]string{generate.RunLabel: runID}},
		Provisioner:       Provisioner,
		VolumeBindingMode: &mode,
		ReclaimPolicy:     ptr.To(v1.PersistentVolumeReclaimDelete),
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating storage class %s: %w", name, err)
	}
	return nil
}

// RunProvisioner provisions until ctx ends: claims whose class is this provisioner's
// and that the scheduler has given a node get a volume in the node's zone.
func RunProvisioner(ctx context.Context, c kubernetes.Interface) {
	factory := informers.NewSharedInformerFactory(c, 0)
	claims := factory.Core().V1().PersistentVolumeClaims()
	nodes := factory.Core().V1().Nodes().Lister()
	classes := factory.Storage().V1().StorageClasses().Lister()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			queue.Add(key)
		}
	}
	_, _ = claims.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for {
		key, shutdown := queue.Get()
		if shutdown {
			factory.Shutdown()
			return
		}
		ns, name, _ := cache.SplitMetaNamespaceKey(key)
		err := provision(ctx, c, claims.Lister(), nodes, classes, ns, name)
		if err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).Error(err, "provisioning", "claim", key)
			queue.AddRateLimited(key)
		} else {
			queue.Forget(key)
		}
		queue.Done(key)
	}
}

func provision(ctx context.Context, c kubernetes.Interface, claims corelisters.PersistentVolumeClaimLister,
	nodes corelisters.NodeLister, classes storagelisters.StorageClassLister, ns, name string) error {
	pvc, err := claims.PersistentVolumeClaims(ns).Get(name)
	if err != nil || pvc.Spec.VolumeName != "" || pvc.Spec.StorageClassName == nil {
		return nil // gone, already bound, or not ours
	}
	nodeName := pvc.Annotations[volume.AnnSelectedNode]
	if nodeName == "" {
		return nil // the scheduler has not chosen yet
	}
	class, err := classes.Get(*pvc.Spec.StorageClassName)
	if err != nil || class.Provisioner != Provisioner {
		return nil
	}
	node, err := nodes.Get(nodeName)
	if err != nil {
		return fmt.Errorf("node %s of claim %s/%s: %w", nodeName, ns, name, err)
	}
	zone := node.Labels[generate.ZoneLabel]
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pvc-" + string(pvc.UID),
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": Provisioner},
			Labels:      volumeLabels(pvc, zone)},
		Spec: v1.PersistentVolumeSpec{
			Capacity:                      v1.ResourceList{v1.ResourceStorage: pvc.Spec.Resources.Requests[v1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			StorageClassName:              class.Name,
			PersistentVolumeReclaimPolicy: v1.PersistentVolumeReclaimDelete,
			ClaimRef: &v1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			// A CSI volume of a driver no node runs: no kubelet can mount it,
			// so on a real cluster it never reaches a real disk.
			PersistentVolumeSource: v1.PersistentVolumeSource{CSI: &v1.CSIPersistentVolumeSource{Driver: Provisioner, VolumeHandle: string(pvc.UID)}},
			NodeAffinity: &v1.VolumeNodeAffinity{Required: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
				MatchExpressions: []v1.NodeSelectorRequirement{{Key: generate.ZoneLabel, Operator: v1.NodeSelectorOpIn, Values: []string{zone}}},
			}}}},
		},
	}
	created, err := c.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = c.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("creating volume for claim %s/%s: %w", ns, name, err)
	}
	created.Status.Phase = v1.VolumeBound
	if _, err := c.CoreV1().PersistentVolumes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("volume %s status: %w", pv.Name, err)
	}
	bound := pvc.DeepCopy()
	bound.Spec.VolumeName = pv.Name
	metav1.SetMetaDataAnnotation(&bound.ObjectMeta, volume.AnnBindCompleted, "yes")
	metav1.SetMetaDataAnnotation(&bound.ObjectMeta, volume.AnnBoundByController, "yes")
	updated, err := c.CoreV1().PersistentVolumeClaims(ns).Update(ctx, bound, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("binding claim %s/%s: %w", ns, name, err)
	}
	updated.Status.Phase = v1.ClaimBound
	updated.Status.Capacity = pv.Spec.Capacity
	updated.Status.AccessModes = pv.Spec.AccessModes
	if _, err := c.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("claim %s/%s status: %w", ns, name, err)
	}
	return nil
}

// volumeLabels give a volume its zone, and the run label of its claim so
// that the run's clean-up finds it.
func volumeLabels(pvc *v1.PersistentVolumeClaim, zone string) map[string]string {
	labels := map[string]string{generate.ZoneLabel: zone}
	if run, ok := pvc.Labels[generate.RunLabel]; ok {
		labels[generate.RunLabel] = run
	}
	return labels
}
