package testkit

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/provision"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// Workload is a workload the kit created: Spec.Count instances (one, named
// Spec.Name, unless Count > 1: <name>-0, <name>-1, ...) of a Deployment
// (with its ReplicaSet), a StatefulSet (with its claims), a Job, or bare
// pods. No controller runs: the kit makes what the controllers would, and
// Scale, Replace and Delete change it as they would.
type Workload struct {
	// Spec is the workload as given, defaulted as in a workload file
	// (namespace "bench", count 1, replicas 1).
	Spec workload.Workload
	// Instances are the generated objects; each instance's Pods are its
	// current pods.
	Instances []*generate.Instance

	env *Env
}

// removeNow deletes at once, as a kubelet confirming termination would:
// no kubelet runs here.
var removeNow = metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}

// Create creates a workload from the harness's spec (pkg/bench/workload, as
// in a workload file's workloads[]): its controller objects, claims and
// pods, named and labelled as docs/workloads.md describes. Pods that name no
// scheduler ask for Env.SchedulerName. It returns once everything is
// created, not scheduled: see WaitScheduled.
func (e *Env) Create(w workload.Workload) *Workload {
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	spec, err := e.checkWorkload(w)
	if err != nil {
		e.tb.Fatalf("testkit: Create: workload %q: %v", w.Name, err)
	}
	e.file.Workloads = append(e.file.Workloads, spec)
	out := &Workload{Spec: spec, env: e, Instances: e.gen.Workloads(e.SchedulerName, spec.Name)}
	for _, inst := range out.Instances {
		if err := e.createInstance(inst); err != nil {
			e.tb.Fatalf("testkit: Create: %v", err)
		}
	}
	e.workloads = append(e.workloads, out)
	return out
}

// checkWorkload defaults and validates a workload as the harness does one
// of a file's, and rejects a name the Env has used (generated names would
// clash).
func (e *Env) checkWorkload(w workload.Workload) (workload.Workload, error) {
	for _, have := range e.file.Workloads {
		if have.Name == w.Name {
			return w, fmt.Errorf("a workload of that name exists already in this Env")
		}
	}
	// The parser wants a cluster; this one is never used, so that a
	// workload can be checked before any node exists.
	f := &workload.File{APIVersion: workload.APIVersion, Kind: workload.Kind, Name: "testkit",
		Cluster: workload.Cluster{Zones: workload.Zones{"z"}, NodeGroups: []workload.NodeGroup{{Name: "n",
			Capacity: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1")}}}},
		Workloads: []workload.Workload{w},
		Ops:       []workload.Op{{Op: workload.OpCreateWorkloads}}}
	parsed, err := reparse(f)
	if err != nil {
		return w, err
	}
	return parsed.Workloads[0], nil
}

// createInstance creates an instance's controllers, then its claims, then
// its pods, with owner references carrying the UIDs the API assigned.
func (e *Env) createInstance(inst *generate.Instance) error {
	c := e.Client
	if err := e.ensureNamespace(inst.Workload.Namespace); err != nil {
		return err
	}
	for _, vc := range inst.Workload.VolumeClaims {
		if err := provision.EnsureStorageClass(e.ctx, c, vc.StorageClassName, RunID); err != nil {
			return err
		}
		e.startProvisioner()
	}
	var err error
	switch o := inst.Owner.(type) {
	case *appsv1.Deployment:
		var d *appsv1.Deployment
		if d, err = c.AppsV1().Deployments(o.Namespace).Create(e.ctx, o, metav1.CreateOptions{}); err == nil {
			e.uids[o.UID] = d.UID
			rs := inst.ReplicaSet.DeepCopy()
			rs.OwnerReferences = e.mapUIDs(rs.OwnerReferences)
			var created *appsv1.ReplicaSet
			if created, err = c.AppsV1().ReplicaSets(rs.Namespace).Create(e.ctx, rs, metav1.CreateOptions{}); err == nil {
				e.uids[inst.ReplicaSet.UID] = created.UID
			}
		}
	case *appsv1.StatefulSet:
		var s *appsv1.StatefulSet
		if s, err = c.AppsV1().StatefulSets(o.Namespace).Create(e.ctx, o, metav1.CreateOptions{}); err == nil {
			e.uids[o.UID] = s.UID
		}
	case *batchv1.Job:
		var j *batchv1.Job
		if j, err = c.BatchV1().Jobs(o.Namespace).Create(e.ctx, o, metav1.CreateOptions{}); err == nil {
			e.uids[o.UID] = j.UID
		}
	}
	if err != nil {
		return fmt.Errorf("creating the controller of %s: %w", inst.Name, err)
	}
	for _, pvc := range inst.Claims {
		if _, err := c.CoreV1().PersistentVolumeClaims(pvc.Namespace).Create(e.ctx, pvc, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating claim %s/%s: %w", pvc.Namespace, pvc.Name, err)
		}
	}
	for _, p := range inst.Pods {
		if err := e.createPod(p, nil); err != nil {
			return err
		}
	}
	return nil
}

func (e *Env) mapUIDs(refs []metav1.OwnerReference) []metav1.OwnerReference {
	out := append([]metav1.OwnerReference(nil), refs...)
	for i := range out {
		if real, ok := e.uids[out[i].UID]; ok {
			out[i].UID = real
		}
	}
	return out
}

// createPod creates a pod, and those of its claims that do not exist yet
// (a StatefulSet's claims outlive its pods).
func (e *Env) createPod(pod *v1.Pod, claims []*v1.PersistentVolumeClaim) error {
	for _, pvc := range claims {
		if _, err := e.Client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Create(e.ctx, pvc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating claim %s/%s: %w", pvc.Namespace, pvc.Name, err)
		}
	}
	p := pod.DeepCopy()
	p.OwnerReferences = e.mapUIDs(p.OwnerReferences)
	if _, err := e.Client.CoreV1().Pods(p.Namespace).Create(e.ctx, p, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// deletePod removes a pod at once and waits until the API no longer has it,
// so that a replacement of the same name can be created.
func (e *Env) deletePod(ns, name string) error {
	err := e.Client.CoreV1().Pods(ns).Delete(e.ctx, name, removeNow)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting pod %s/%s: %w", ns, name, err)
	}
	err = e.poll(func() (bool, error) {
		_, err := e.Client.CoreV1().Pods(ns).Get(e.ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("pod %s/%s still there after deletion: %w", ns, name, err)
	}
	return nil
}

// Pods returns the namespaced names of the workload's current pods, in
// creation order (a StatefulSet's by ordinal).
func (w *Workload) Pods() []types.NamespacedName {
	w.env.mu.Lock()
	defer w.env.mu.Unlock()
	var out []types.NamespacedName
	for _, inst := range w.Instances {
		for _, p := range inst.Pods {
			out = append(out, types.NamespacedName{Namespace: p.Namespace, Name: p.Name})
		}
	}
	return out
}

// Placements reads the workload's current pods back from the API.
func (w *Workload) Placements() Placements {
	w.env.tb.Helper()
	return w.env.placementsOf(w.Pods())
}

// Scale sets every instance to replicas, as kubectl scale and the
// controller would: the controller object's replicas first (plugins read
// them), then pods added (a StatefulSet's next ordinals, with their claims)
// or the newest removed (a StatefulSet's highest ordinals, claims kept).
// Bare pods have no controller to scale.
func (w *Workload) Scale(replicas int) {
	e := w.env
	e.tb.Helper()
	if replicas < 0 {
		e.tb.Fatalf("testkit: Scale(%d) of %s: replicas must not be negative", replicas, w.Spec.Name)
	}
	if w.Spec.Kind == workload.KindPod {
		e.tb.Fatalf("testkit: Scale of %s: bare pods have no controller to scale", w.Spec.Name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, inst := range w.Instances {
		if err := e.setReplicas(inst, replicas); err != nil {
			e.tb.Fatalf("testkit: Scale of %s: %v", inst.Name, err)
		}
		for len(inst.Pods) > replicas {
			last := inst.Pods[len(inst.Pods)-1]
			if err := e.deletePod(last.Namespace, last.Name); err != nil {
				e.tb.Fatalf("testkit: Scale of %s: %v", inst.Name, err)
			}
			inst.Pods = inst.Pods[:len(inst.Pods)-1]
		}
		for len(inst.Pods) < replicas {
			pod, claims := e.gen.ReplacementPod(inst, len(inst.Pods))
			if err := e.createPod(pod, claims); err != nil {
				e.tb.Fatalf("testkit: Scale of %s: %v", inst.Name, err)
			}
			inst.Pods = append(inst.Pods, pod)
		}
	}
}

// setReplicas updates an instance's controller object.
func (e *Env) setReplicas(inst *generate.Instance, replicas int) error {
	n := ptr.To(int32(replicas))
	apps, batch := e.Client.AppsV1(), e.Client.BatchV1()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		switch o := inst.Owner.(type) {
		case *appsv1.Deployment:
			d, err := apps.Deployments(o.Namespace).Get(e.ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Spec.Replicas = n
			_, err = apps.Deployments(o.Namespace).Update(e.ctx, d, metav1.UpdateOptions{})
			return err
		case *appsv1.StatefulSet:
			s, err := apps.StatefulSets(o.Namespace).Get(e.ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Spec.Replicas = n
			_, err = apps.StatefulSets(o.Namespace).Update(e.ctx, s, metav1.UpdateOptions{})
			return err
		case *batchv1.Job:
			j, err := batch.Jobs(o.Namespace).Get(e.ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			j.Spec.Parallelism = n
			_, err = batch.Jobs(o.Namespace).Update(e.ctx, j, metav1.UpdateOptions{})
			return err
		}
		return nil
	})
}

// Replace removes one of the workload's pods, as a node failure or an
// eviction would, and creates its replacement as the controller would: a
// StatefulSet replica under the same name with the same claims, a
// Deployment's or Job's pod under a new name, a bare pod under the same
// name. It returns the replacement's name; it is not scheduled yet.
func (w *Workload) Replace(pod string) string {
	e := w.env
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, inst := range w.Instances {
		i := slices.IndexFunc(inst.Pods, func(p *v1.Pod) bool { return p.Name == pod })
		if i < 0 {
			continue
		}
		old := inst.Pods[i]
		if err := e.deletePod(old.Namespace, old.Name); err != nil {
			e.tb.Fatalf("testkit: Replace %s: %v", pod, err)
		}
		repl, claims := e.gen.ReplacementPod(inst, i)
		if err := e.createPod(repl, claims); err != nil {
			e.tb.Fatalf("testkit: Replace %s: %v", pod, err)
		}
		inst.Pods[i] = repl
		return repl.Name
	}
	e.tb.Fatalf("testkit: Replace: %s is not a current pod of workload %s (pods: %v)", pod, w.Spec.Name, w.podNamesLocked())
	return ""
}

func (w *Workload) podNamesLocked() []string {
	var out []string
	for _, inst := range w.Instances {
		for _, p := range inst.Pods {
			out = append(out, p.Name)
		}
	}
	return out
}

// Delete removes the workload's pods, claims and controller objects, and
// returns once the pods are gone.
func (w *Workload) Delete() {
	e := w.env
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.Client
	for _, inst := range w.Instances {
		for _, p := range inst.Pods {
			if err := e.deletePod(p.Namespace, p.Name); err != nil {
				e.tb.Fatalf("testkit: Delete of %s: %v", w.Spec.Name, err)
			}
		}
		inst.Pods = nil
		for _, pvc := range inst.Claims {
			if err := c.CoreV1().PersistentVolumeClaims(pvc.Namespace).Delete(e.ctx, pvc.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				e.tb.Fatalf("testkit: Delete of %s: claim %s: %v", w.Spec.Name, pvc.Name, err)
			}
		}
		var err error
		switch o := inst.Owner.(type) {
		case *appsv1.Deployment:
			if err = c.AppsV1().ReplicaSets(o.Namespace).Delete(e.ctx, inst.ReplicaSet.Name, metav1.DeleteOptions{}); err == nil || apierrors.IsNotFound(err) {
				err = c.AppsV1().Deployments(o.Namespace).Delete(e.ctx, o.Name, metav1.DeleteOptions{})
			}
		case *appsv1.StatefulSet:
			err = c.AppsV1().StatefulSets(o.Namespace).Delete(e.ctx, o.Name, metav1.DeleteOptions{})
		case *batchv1.Job:
			err = c.BatchV1().Jobs(o.Namespace).Delete(e.ctx, o.Name, metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			e.tb.Fatalf("testkit: Delete of %s: %v", w.Spec.Name, err)
		}
	}
}
