package sim

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/snapshot"
)

// Loaded is what LoadSnapshot made of a snapshot.
type Loaded struct {
	// Nodes are the snapshot's nodes as created.
	Nodes []*v1.Node
	// Bound are the pods that were on nodes already: loaded as they are,
	// not the run's (they carry no run label, so no measurement counts
	// them), but they take their nodes' capacity.
	Bound []*v1.Pod
	// Pending are the pods the snapshot's cluster had not placed, made
	// ready to be created again (CreatePod) unbound, for the run's
	// scheduler, as the run's own pods: the caller creates them once its
	// scheduler has seen the nodes.
	Pending []*v1.Pod
}

// LoadSnapshot creates a snapshot's cluster on the backend, owners before
// what they own: namespaces, priority and storage classes, nodes, claims and
// volumes bound to each other, workload controllers, and the pods that were
// on nodes (as they are); the pods that were pending it returns, for
// schedulerName and labelled with the run, for the caller to create. Owner
// references and claim references follow the UIDs the backend assigns.
// Finished pods (Succeeded, Failed) hold nothing and are left out.
func (w *Workloads) LoadSnapshot(ctx context.Context, s *snapshot.Snapshot, schedulerName string) (*Loaded, error) {
	c := w.client
	for i := range s.Namespaces {
		if err := w.EnsureNamespace(ctx, s.Namespaces[i].Name); err != nil {
			return nil, err
		}
	}
	for i := range s.PriorityClasses {
		pc := fresh(w, &s.PriorityClasses[i])
		// The API server makes the system classes itself.
		if _, err := c.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating priority class %s: %w", pc.Name, err)
		}
	}
	for i := range s.StorageClasses {
		sc := fresh(w, &s.StorageClasses[i])
		if _, err := c.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating storage class %s: %w", sc.Name, err)
		}
	}
	out := &Loaded{}
	for i := range s.Nodes {
		n := fresh(w, &s.Nodes[i])
		w.backend.PrepareNode(n)
		created, err := CreateNode(ctx, c, n)
		if err != nil {
			return nil, err
		}
		out.Nodes = append(out.Nodes, created)
	}
	if err := w.loadVolumes(ctx, s); err != nil {
		return nil, err
	}
	if err := w.loadControllers(ctx, s); err != nil {
		return nil, err
	}
	for i := range s.Pods {
		pod := &s.Pods[i]
		if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
			continue
		}
		if pod.Spec.NodeName != "" {
			bound, err := w.CreateBoundPod(ctx, pod)
			if err != nil {
				return nil, err
			}
			out.Bound = append(out.Bound, bound)
			continue
		}
		if err := w.EnsureNamespace(ctx, pod.Namespace); err != nil {
			return nil, err
		}
		p := fresh(w, pod)
		p.Spec.SchedulerName = schedulerName
		p.Status = v1.PodStatus{}
		metav1.SetMetaDataLabel(&p.ObjectMeta, generate.RunLabel, w.runID)
		out.Pending = append(out.Pending, p)
	}
	return out, nil
}

// fresh is a copy of a live object without what its cluster assigned (an
// API server refuses a create that carries a resourceVersion), its owner
// references following the UIDs the backend gave the owners.
func fresh[P interface {
	metav1.Object
	DeepCopy() P
}](w *Workloads, obj P) P {
	out := obj.DeepCopy()
	out.SetResourceVersion("")
	out.SetUID("")
	out.SetCreationTimestamp(metav1.Time{})
	out.SetGeneration(0)
	out.SetOwnerReferences(w.ownerUIDs(out.GetOwnerReferences()))
	return out
}

// remember maps a live UID to the one the backend gave the object.
func (w *Workloads) remember(live, created types.UID) { w.uids.Store(live, created) }

// loadVolumes creates claims, then the volumes bound to them (claim
// references following the claims' new UIDs), then sets both statuses, as
// an API server drops status given on create.
func (w *Workloads) loadVolumes(ctx context.Context, s *snapshot.Snapshot) error {
	core := w.client.CoreV1()
	for i := range s.Claims {
		live := &s.Claims[i]
		if err := w.EnsureNamespace(ctx, live.Namespace); err != nil {
			return err
		}
		created, err := core.PersistentVolumeClaims(live.Namespace).Create(ctx, fresh(w, live), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating claim %s/%s: %w", live.Namespace, live.Name, err)
		}
		w.remember(live.UID, created.UID)
		created.Status = live.Status
		if _, err := core.PersistentVolumeClaims(live.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("setting the status of claim %s/%s: %w", live.Namespace, live.Name, err)
		}
	}
	for i := range s.Volumes {
		live := &s.Volumes[i]
		pv := fresh(w, live)
		if ref := pv.Spec.ClaimRef; ref != nil {
			if real, ok := w.uids.Load(ref.UID); ok {
				ref.UID = real.(types.UID)
			}
			ref.ResourceVersion = ""
		}
		created, err := core.PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating volume %s: %w", pv.Name, err)
		}
		created.Status = live.Status
		if _, err := core.PersistentVolumes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("setting the status of volume %s: %w", pv.Name, err)
		}
	}
	return nil
}

// loadControllers creates the workload controllers, Deployments before
// their ReplicaSets, with owner references following the new UIDs. Plugins
// read them (a StatefulSet's replicas, say); no controller acts on them.
func (w *Workloads) loadControllers(ctx context.Context, s *snapshot.Snapshot) error {
	apps := w.client.AppsV1()
	for i := range s.Deployments {
		if err := loadOwned(ctx, w, &s.Deployments[i], apps.Deployments(s.Deployments[i].Namespace).Create); err != nil {
			return err
		}
	}
	for i := range s.ReplicaSets {
		if err := loadOwned(ctx, w, &s.ReplicaSets[i], apps.ReplicaSets(s.ReplicaSets[i].Namespace).Create); err != nil {
			return err
		}
	}
	for i := range s.StatefulSets {
		if err := loadOwned(ctx, w, &s.StatefulSets[i], apps.StatefulSets(s.StatefulSets[i].Namespace).Create); err != nil {
			return err
		}
	}
	for i := range s.Jobs {
		job := s.Jobs[i].DeepCopy()
		// The selector names the live Job's UID; an API server accepts it
		// only as a manual selector.
		if job.Spec.Selector != nil {
			job.Spec.ManualSelector = ptr.To(true)
		}
		if err := loadOwned(ctx, w, job, w.client.BatchV1().Jobs(job.Namespace).Create); err != nil {
			return err
		}
	}
	return nil
}

// owned is a controller object of a snapshot.
type owned[P any] interface {
	*appsv1.Deployment | *appsv1.ReplicaSet | *appsv1.StatefulSet | *batchv1.Job
	metav1.Object
	DeepCopy() P
}

// loadOwned creates one controller object and remembers its new UID.
func loadOwned[P owned[P]](ctx context.Context, w *Workloads, live P, create func(context.Context, P, metav1.CreateOptions) (P, error)) error {
	if err := w.EnsureNamespace(ctx, live.GetNamespace()); err != nil {
		return err
	}
	created, err := create(ctx, fresh(w, live), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating %s/%s: %w", live.GetNamespace(), live.GetName(), err)
	}
	w.remember(live.GetUID(), created.GetUID())
	return nil
}

// CreateBoundPod creates a pod that is already on a node, there, with its
// status: a snapshot's pods, and the pods of other schedulers a workload
// file's occupied asks for.
func (w *Workloads) CreateBoundPod(ctx context.Context, live *v1.Pod) (*v1.Pod, error) {
	if err := w.EnsureNamespace(ctx, live.Namespace); err != nil {
		return nil, err
	}
	p := fresh(w, live)
	pods := w.client.CoreV1().Pods(p.Namespace)
	created, err := pods.Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	created.Status = live.Status
	updated, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("setting the status of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return updated, nil
}
