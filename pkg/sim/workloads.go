package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
)

// RemoveNow deletes at once, as a kubelet confirming termination would: no
// kubelet runs a simulated node's pods.
var RemoveNow = metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}

// Workloads creates and changes generated workload instances
// (generate.Instance) on a backend as their controllers would: the
// controller objects, then claims, then pods, with owner references that
// carry the UIDs the backend gave the owners; scale, replace and delete
// change the instance's pods (inst.Pods stays the current set) the way the
// Deployment, StatefulSet and Job controllers do. No controller needs to run.
//
// Pod creation is reported through OnPodCreated, with the moment just
// before the request, so that a measurement can start its clock there.
type Workloads struct {
	backend Backend
	client  kubernetes.Interface
	gen     *generate.Generator
	runID   string
	// uids maps a generated owner UID to the one the backend assigned.
	uids sync.Map
	// namespaces holds those EnsureNamespace made sure of: a run never
	// deletes one before it ends, so one request each is enough.
	namespaces sync.Map

	// OnPodCreated, when set, hears of every pod created (its UID, when
	// the request was made, and whether the caller measures it).
	OnPodCreated func(uid types.UID, at time.Time, measured bool)
}

// NewWorkloads acts on backend with the objects gen generates; runID labels
// the storage classes it creates.
func NewWorkloads(backend Backend, gen *generate.Generator, runID string) *Workloads {
	return &Workloads{backend: backend, client: backend.Client(), gen: gen, runID: runID}
}

// EnsureNamespace creates ns unless it exists, and tells the backend
// whether the run created it (then it is the run's to delete).
func (w *Workloads) EnsureNamespace(ctx context.Context, ns string) error {
	if _, done := w.namespaces.Load(ns); done {
		return nil
	}
	// The run label says a harness run made it: on a shared cluster, the
	// last run to use it deletes it (Backend.Close).
	_, err := w.client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{generate.RunLabel: w.runID}}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	w.backend.UsedNamespace(ns, err == nil)
	w.namespaces.Store(ns, true)
	return nil
}

// CreateOwners creates what an instance needs before its pods: its
// namespace, the storage classes its claims name, its controller objects
// and its claims. The pods are the caller's to create (CreatePod), at the
// pace it measures — unless the backend's cluster runs its own controllers
// (Backend.RunsControllers): then only the top controller object (a
// Deployment, StatefulSet or Job) is created, and the cluster's controllers
// make the rest, so that every pod has exactly one creator.
func (w *Workloads) CreateOwners(ctx context.Context, inst *generate.Instance) error {
	if err := w.EnsureNamespace(ctx, inst.Workload.Namespace); err != nil {
		return err
	}
	for _, c := range inst.Workload.VolumeClaims {
		if err := EnsureStorageClass(ctx, w.client, c.StorageClassName, w.runID); err != nil {
			return err
		}
	}
	if err := w.createController(ctx, inst); err != nil {
		return fmt.Errorf("creating the controller of %s: %w", inst.Name, err)
	}
	if w.backend.RunsControllers() {
		return nil
	}
	for _, c := range inst.Claims {
		if _, err := w.client.CoreV1().PersistentVolumeClaims(c.Namespace).Create(ctx, c, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating claim %s/%s: %w", c.Namespace, c.Name, err)
		}
	}
	return nil
}

// PrepareTemplate applies the backend's PreparePod to the pod template of a
// controller object (Deployment, ReplicaSet, StatefulSet, Job), so that
// the pods a real controller makes from it are prepared as the run's own.
func PrepareTemplate(ctx context.Context, b Backend, obj runtime.Object) error {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return b.PreparePod(ctx, &o.Spec.Template.Spec)
	case *appsv1.ReplicaSet:
		return b.PreparePod(ctx, &o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		return b.PreparePod(ctx, &o.Spec.Template.Spec)
	case *batchv1.Job:
		return b.PreparePod(ctx, &o.Spec.Template.Spec)
	}
	return nil
}

// createController creates the instance's controller objects (a
// Deployment's with its ReplicaSet) and remembers the UIDs they got.
func (w *Workloads) createController(ctx context.Context, inst *generate.Instance) error {
	apps := w.client.AppsV1()
	if inst.Owner == nil {
		return nil
	}
	owner := inst.Owner.DeepCopyObject()
	if err := PrepareTemplate(ctx, w.backend, owner); err != nil {
		return err
	}
	switch o := owner.(type) {
	case *appsv1.Deployment:
		d, err := apps.Deployments(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		w.uids.Store(o.UID, d.UID)
		if w.backend.RunsControllers() {
			return nil
		}
		rs := inst.ReplicaSet.DeepCopy()
		rs.OwnerReferences = w.ownerUIDs(rs.OwnerReferences)
		if err := PrepareTemplate(ctx, w.backend, rs); err != nil {
			return err
		}
		created, err := apps.ReplicaSets(rs.Namespace).Create(ctx, rs, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		w.uids.Store(inst.ReplicaSet.UID, created.UID)
	case *appsv1.StatefulSet:
		if w.backend.RunsControllers() {
			// The controller makes the claims from the templates: they carry
			// the run's labels, so that its clean-up finds them, and go with
			// the set.
			for i := range o.Spec.VolumeClaimTemplates {
				o.Spec.VolumeClaimTemplates[i].Labels = o.Labels
			}
			o.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType}
			// Its replicas all at once, as the harness makes them elsewhere:
			// on nodes nothing runs pods on (no KWOK), the ordered policy
			// would wait forever for replica 0 to be Ready.
			o.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
		}
		s, err := apps.StatefulSets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		w.uids.Store(o.UID, s.UID)
	case *batchv1.Job:
		j, err := w.client.BatchV1().Jobs(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		w.uids.Store(o.UID, j.UID)
	}
	return nil
}

func (w *Workloads) ownerUIDs(refs []metav1.OwnerReference) []metav1.OwnerReference {
	out := append([]metav1.OwnerReference(nil), refs...)
	for i := range out {
		if real, ok := w.uids.Load(out[i].UID); ok {
			out[i].UID = real.(types.UID)
		}
	}
	return out
}

// CreatePod creates a pod (named as WithGeneratedName does when it has only
// a generateName), and those of its claims that do not exist yet (a
// StatefulSet's claims outlive its pods), and returns the UID the backend
// gave it.
func (w *Workloads) CreatePod(ctx context.Context, pod *v1.Pod, claims []*v1.PersistentVolumeClaim, measured bool) (types.UID, error) {
	for _, c := range claims {
		if _, err := w.client.CoreV1().PersistentVolumeClaims(c.Namespace).Create(ctx, c, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("creating claim %s/%s: %w", c.Namespace, c.Name, err)
		}
	}
	p := pod.DeepCopy()
	p.OwnerReferences = w.ownerUIDs(p.OwnerReferences)
	if err := w.backend.PreparePod(ctx, &p.Spec); err != nil {
		return "", err
	}
	at := time.Now()
	var created *v1.Pod
	err := WithGeneratedName(p, func() (err error) {
		created, err = w.client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	if w.OnPodCreated != nil {
		w.OnPodCreated(created.UID, at, measured)
	}
	return created.UID, nil
}

// DeletePod removes a pod at once and returns once the API no longer has it,
// so that a replacement of the same name (a StatefulSet replica) can follow.
func (w *Workloads) DeletePod(ctx context.Context, ns, name string) error {
	pods := w.client.CoreV1().Pods(ns)
	if err := pods.Delete(ctx, name, RemoveNow); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("deleting pod %s/%s: %w", ns, name, err)
	}
	// A pod without finalizers deleted with grace 0 is gone at once on every
	// backend; the poll guards against one that is not.
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("pod %s/%s still there after deletion: %w", ns, name, err)
	}
	return nil
}

// Scale sets an instance to replicas as kubectl scale and its controller
// would: the controller object's replicas (or a Job's parallelism) first,
// since plugins read them; then the newest pods removed (a StatefulSet's
// highest ordinals, their claims kept) or new ones created (a
// StatefulSet's next ordinals, with claims).
//
// Where the cluster's controllers run, only the controller object changes:
// they add and remove the pods, and inst.Pods is not kept.
func (w *Workloads) Scale(ctx context.Context, inst *generate.Instance, replicas int, measured bool) error {
	if err := w.setReplicas(ctx, inst, int32(replicas)); err != nil {
		return fmt.Errorf("scaling %s: %w", inst.Name, err)
	}
	if w.backend.RunsControllers() {
		return nil
	}
	for len(inst.Pods) > replicas {
		last := inst.Pods[len(inst.Pods)-1]
		if err := w.DeletePod(ctx, last.Namespace, last.Name); err != nil {
			return fmt.Errorf("scaling %s down: %w", inst.Name, err)
		}
		inst.Pods = inst.Pods[:len(inst.Pods)-1]
	}
	for len(inst.Pods) < replicas {
		pod, claims := w.gen.ReplacementPod(inst, len(inst.Pods))
		if _, err := w.CreatePod(ctx, pod, claims, measured); err != nil {
			return fmt.Errorf("scaling %s up: %w", inst.Name, err)
		}
		inst.Pods = append(inst.Pods, pod)
	}
	return nil
}

// setReplicas updates the instance's controller object, again when it lost
// a race with another writer.
func (w *Workloads) setReplicas(ctx context.Context, inst *generate.Instance, n int32) error {
	apps := w.client.AppsV1()
	switch o := inst.Owner.(type) {
	case *appsv1.Deployment:
		return update(ctx, apps.Deployments(o.Namespace), o.Name, func(d *appsv1.Deployment) { d.Spec.Replicas = &n })
	case *appsv1.StatefulSet:
		return update(ctx, apps.StatefulSets(o.Namespace), o.Name, func(s *appsv1.StatefulSet) { s.Spec.Replicas = &n })
	case *batchv1.Job:
		return update(ctx, w.client.BatchV1().Jobs(o.Namespace), o.Name, func(j *batchv1.Job) { j.Spec.Parallelism = &n })
	}
	return nil
}

// getUpdater is the part of a typed client update needs.
type getUpdater[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// update reads an object, changes it and writes it back, again from the
// read after a conflict, until it succeeds, fails otherwise, or ctx ends.
func update[T any](ctx context.Context, c getUpdater[T], name string, change func(T)) error {
	for {
		obj, err := c.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(obj)
		if _, err = c.Update(ctx, obj, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Replace removes pod i of an instance, as a node failure or an eviction
// would, and creates its replacement as the controller would: a StatefulSet
// replica under the same name with the same claims, a Deployment's or Job's
// pod under a new name, a bare pod under the same name. It returns the
// replacement and the UID the backend gave it.
func (w *Workloads) Replace(ctx context.Context, inst *generate.Instance, i int, measured bool) (*v1.Pod, types.UID, error) {
	old := inst.Pods[i]
	if err := w.DeletePod(ctx, old.Namespace, old.Name); err != nil {
		return nil, "", err
	}
	next, claims := w.gen.ReplacementPod(inst, i)
	uid, err := w.CreatePod(ctx, next, claims, measured)
	if err != nil {
		return nil, "", err
	}
	inst.Pods[i] = next
	return next, uid, nil
}

// Delete removes an instance's pods, claims and controller objects; the
// instance keeps no pods. Where the cluster's controllers run, deleting the
// controller object is enough: the garbage collector removes what it made.
func (w *Workloads) Delete(ctx context.Context, inst *generate.Instance) error {
	if w.backend.RunsControllers() && inst.Owner != nil {
		inst.Pods = nil
		if err := w.deleteController(ctx, inst); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the controller of %s: %w", inst.Name, err)
		}
		return nil
	}
	var errs []error
	for _, p := range inst.Pods {
		errs = append(errs, w.DeletePod(ctx, p.Namespace, p.Name))
	}
	inst.Pods = nil
	for _, c := range inst.Claims {
		if err := w.client.CoreV1().PersistentVolumeClaims(c.Namespace).Delete(ctx, c.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting claim %s/%s: %w", c.Namespace, c.Name, err))
		}
	}
	if err := w.deleteController(ctx, inst); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("deleting the controller of %s: %w", inst.Name, err))
	}
	return errors.Join(errs...)
}

func (w *Workloads) deleteController(ctx context.Context, inst *generate.Instance) error {
	apps := w.client.AppsV1()
	// What the object owns goes too, as kubectl delete does.
	opts := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
	switch o := inst.Owner.(type) {
	case *appsv1.Deployment:
		if !w.backend.RunsControllers() {
			err := apps.ReplicaSets(o.Namespace).Delete(ctx, inst.ReplicaSet.Name, opts)
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
		return apps.Deployments(o.Namespace).Delete(ctx, o.Name, opts)
	case *appsv1.StatefulSet:
		return apps.StatefulSets(o.Namespace).Delete(ctx, o.Name, opts)
	case *batchv1.Job:
		return w.client.BatchV1().Jobs(o.Namespace).Delete(ctx, o.Name, opts)
	}
	return nil
}
