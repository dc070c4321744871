package upstream

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	corev1defaults "k8s.io/kubernetes/pkg/apis/core/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/sim"
)

// Objects of templates (createAny, churn) and the volume binding that
// scheduler_perf's fake persistent-volume controller does.

// createObject creates one object of a template in ns (empty: cluster
// scoped), prepared like the run's other objects.
func (e *executor) createObject(ctx context.Context, t *objectTemplate, index, count int, ns string) (string, error) {
	obj, kind, err := t.decodeObject(index, count)
	if err != nil {
		return "", err
	}
	m := obj.(metav1.Object)
	m.SetNamespace(ns)
	switch o := obj.(type) {
	case *v1.Pod:
		o.Namespace = ns
		e.preparePod(o)
		if err := e.backend.PreparePod(ctx, &o.Spec); err != nil {
			return "", err
		}
	case *v1.Node:
		e.label(o)
		e.backend.PrepareNode(o)
		if e.memory {
			corev1defaults.SetObjectDefaults_Node(o)
		}
	default:
		e.label(m)
		if err := sim.PrepareTemplate(ctx, e.backend, obj); err != nil {
			return "", err
		}
		if e.memory {
			defaultObject(obj)
		}
	}
	var created metav1.Object
	if n, ok := obj.(*v1.Node); ok {
		created, err = sim.CreateNode(ctx, e.client, n)
	} else {
		err = sim.WithGeneratedName(m, func() (err error) {
			created, err = kind.create(ctx, e.client, ns, obj)
			return err
		})
	}
	if err != nil {
		return "", fmt.Errorf("creating %s from %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, t.path, err)
	}
	kindName := obj.GetObjectKind().GroupVersionKind().Kind
	e.owners.Store(kindName+"/"+ns+"/"+created.GetName(), created.GetUID())
	if n, ok := obj.(*v1.Node); ok {
		e.mu.Lock()
		e.zones[n.Name] = n.Labels[generate.ZoneLabel]
		e.mu.Unlock()
	}
	e.remember(kind, ns, created.GetName())
	return created.GetName(), nil
}

// defaultObject applies the API server's defaults the memory backend lacks,
// for the kinds the scheduler reads fields of.
func defaultObject(obj runtime.Object) {
	switch o := obj.(type) {
	case *v1.PersistentVolume:
		corev1defaults.SetObjectDefaults_PersistentVolume(o)
	case *v1.PersistentVolumeClaim:
		corev1defaults.SetObjectDefaults_PersistentVolumeClaim(o)
	case *v1.Service:
		corev1defaults.SetObjectDefaults_Service(o)
	case *v1.Namespace:
		corev1defaults.SetObjectDefaults_Namespace(o)
	}
}

// remember records an object for deletion at the end on a shared backend.
func (e *executor) remember(kind *objectKind, ns, name string) {
	if !e.backend.Shared() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.made = append(e.made, createdObject{kind: kind, namespace: ns, name: name})
}

// forget drops a deleted object from the clean-up list.
func (e *executor) forget(ns, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, o := range e.made {
		if o.namespace == ns && o.name == name {
			e.made = append(e.made[:i], e.made[i+1:]...)
			return
		}
	}
}

// cleanup deletes, on a shared backend, what createAny, churn and
// nodeAllocatableStrategy made; the backend's reset removes the rest.
func (e *executor) cleanup() {
	e.mu.Lock()
	made := e.made
	e.made = nil
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range made {
		_ = o.kind.remove(ctx, e.client, o.namespace, o.name)
	}
}

func (e *executor) createAny(ctx context.Context, s *Step) error {
	if s.Namespace != "" {
		if err := e.ensureNamespace(ctx, s.Namespace); err != nil {
			return err
		}
	}
	for i := range s.Count {
		if _, err := e.createObject(ctx, s.AnyTemplate, i, s.Count, s.Namespace); err != nil {
			return err
		}
	}
	return nil
}

// churn starts creating (and in recreate mode deleting) objects in the
// background until the workload ends, as scheduler_perf's churn op does.
func (e *executor) churn(ctx context.Context, s *Step) error {
	if err := e.ensureNamespace(ctx, s.Namespace); err != nil {
		return err
	}
	o := s.Churn
	interval := 500 * time.Millisecond
	if o.IntervalMilliseconds != 0 {
		interval = time.Duration(o.IntervalMilliseconds) * time.Millisecond
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		ctx := e.bgCtx
		// names[t][k]: the object of template t in slot k (recreate mode);
		// spaces[t]: where template t's objects go.
		names := make([][]string, len(s.ChurnTemplates))
		spaces := make([]string, len(s.ChurnTemplates))
		for t, tmpl := range s.ChurnTemplates {
			names[t] = make([]string, max(o.Number, 1))
			if _, kind, err := tmpl.decodeObject(0, 1); err == nil && kind.namespaced {
				spaces[t] = s.Namespace
			}
		}
		for round := 0; o.Mode == ChurnRecreate || o.Number == 0 || round < o.Number; round++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for t, tmpl := range s.ChurnTemplates {
				slot, ns := round%len(names[t]), spaces[t]
				if o.Mode == ChurnRecreate && names[t][slot] != "" {
					e.removeChurned(ctx, tmpl, ns, names[t][slot])
					names[t][slot] = ""
					continue
				}
				// Errors are dropped, as scheduler_perf drops them: churn is
				// background noise, and a create that fails is retried next round.
				if name, err := e.createObject(ctx, tmpl, round, 0, ns); err == nil {
					names[t][slot] = name
				}
			}
		}
	}()
	return nil
}

func (e *executor) removeChurned(ctx context.Context, t *objectTemplate, ns, name string) {
	_, kind, err := t.decodeObject(0, 1)
	if err != nil {
		return
	}
	if err := kind.remove(ctx, e.client, ns, name); err == nil || apierrors.IsNotFound(err) {
		e.forget(ns, name)
	}
}

// bindClaims completes the binding of a claim once the scheduler has bound
// a volume to it (volume.Spec.ClaimRef), as scheduler_perf's fake
// PersistentVolume controller does: there is no volume controller here.
func (e *executor) bindClaims(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(e.client, 0)
	inf := factory.Core().V1().PersistentVolumes().Informer()
	sync := func(obj any) {
		pv, ok := obj.(*v1.PersistentVolume)
		if !ok || pv.Spec.ClaimRef == nil {
			return
		}
		ref := pv.Spec.ClaimRef
		claims := e.client.CoreV1().PersistentVolumeClaims(ref.Namespace)
		pvc, err := claims.Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil || pvc.Spec.VolumeName != "" {
			return
		}
		pvc.Spec.VolumeName = pv.Name
		metav1.SetMetaDataAnnotation(&pvc.ObjectMeta, "pv.kubernetes.io/bind-completed", "yes")
		_, _ = claims.Update(ctx, pvc, metav1.UpdateOptions{})
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: sync, UpdateFunc: func(_, obj any) { sync(obj) }}); err != nil {
		return
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}
