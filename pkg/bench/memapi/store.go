// Package memapi is an in-memory Kubernetes API for the harness's memory
// backend: a client-go clientset whose objects live in this process, so a
// scheduler can be measured without an API server in the way. It fixes what
// the stock fake clientset gets wrong for a scheduler: objects get UIDs and
// resource versions, pods/binding binds, watches never overflow (each has an
// unbounded queue) and resume from a resource version, so an informer's
// List-then-Watch misses nothing.
package memapi

import (
	"fmt"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/testing"
)

// historyLimit bounds the events kept for watches that resume from a
// resource version; one older than that gets 410 Gone and relists, as from
// a real API server whose watch cache has moved on.
const historyLimit = 200_000

type key struct{ namespace, name string }

type event struct {
	gvr schema.GroupVersionResource
	rv  uint64
	ev  watch.Event
}

// Store holds the objects and implements client-go's testing.ObjectTracker.
type Store struct {
	mu       sync.RWMutex
	rv       uint64
	objects  map[schema.GroupVersionResource]map[key]runtime.Object
	history  []event // the most recent events, oldest first
	watchers map[schema.GroupVersionResource]map[*watcher]struct{}
}

var _ testing.ObjectTracker = &Store{}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		objects:  map[schema.GroupVersionResource]map[key]runtime.Object{},
		watchers: map[schema.GroupVersionResource]map[*watcher]struct{}{},
	}
}

func gvrOf(obj runtime.Object) (schema.GroupVersionResource, error) {
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gvks[0])
	return gvr, nil
}

// Add creates obj, finding its resource from its type.
func (s *Store) Add(obj runtime.Object) error {
	gvr, err := gvrOf(obj)
	if err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	return s.Create(gvr, obj, m.GetNamespace())
}

// Get returns a copy of an object.
func (s *Store) Get(gvr schema.GroupVersionResource, ns, name string, _ ...metav1.GetOptions) (runtime.Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.objects[gvr][key{ns, name}]
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	return obj.DeepCopyObject(), nil
}

// copyInto copies obj, which the store keeps while the caller may go on
// changing its own, into namespace ns (unless ns is empty: the object's
// own, or a cluster-scoped object).
func copyInto(obj runtime.Object, ns string) (runtime.Object, metav1.Object, error) {
	obj = obj.DeepCopyObject()
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	if ns != "" {
		m.SetNamespace(ns)
	}
	return obj, m, nil
}

// Create stores a copy of obj with a UID (unless it has one), a resource
// version and a creation time.
func (s *Store) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.CreateOptions) error {
	obj, m, err := copyInto(obj, ns)
	if err != nil {
		return err
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + string(uuid.NewUUID())[:5])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{m.GetNamespace(), m.GetName()}
	if _, exists := s.objects[gvr][k]; exists {
		return apierrors.NewAlreadyExists(gvr.GroupResource(), m.GetName())
	}
	if m.GetUID() == "" {
		m.SetUID(types.UID(uuid.NewUUID()))
	}
	if ts := m.GetCreationTimestamp(); ts.IsZero() {
		m.SetCreationTimestamp(metav1.Now())
	}
	if s.objects[gvr] == nil {
		s.objects[gvr] = map[key]runtime.Object{}
	}
	s.objects[gvr][k] = obj
	s.emitLocked(gvr, watch.Added, obj, m)
	return nil
}

// Update replaces an object (Patch comes here too, the patch already
// applied by client-go's ObjectReaction).
func (s *Store) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.UpdateOptions) error {
	obj, m, err := copyInto(obj, ns)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateLocked(gvr, obj, m)
}

func (s *Store) updateLocked(gvr schema.GroupVersionResource, obj runtime.Object, m metav1.Object) error {
	k := key{m.GetNamespace(), m.GetName()}
	old, ok := s.objects[gvr][k]
	if !ok {
		return apierrors.NewNotFound(gvr.GroupResource(), m.GetName())
	}
	// Identity and creation time are the server's, not the writer's.
	om, _ := meta.Accessor(old)
	m.SetUID(om.GetUID())
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	s.objects[gvr][k] = obj
	s.emitLocked(gvr, watch.Modified, obj, m)
	return nil
}

// mutate changes a copy of an object under the store's lock and stores it:
// a read-check-write no other writer can interleave with.
func (s *Store) mutate(gvr schema.GroupVersionResource, ns, name string, change func(runtime.Object) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.objects[gvr][key{ns, name}]
	if !ok {
		return apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	obj := old.DeepCopyObject()
	if err := change(obj); err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	return s.updateLocked(gvr, obj, m)
}

// Patch stores the patched object.
func (s *Store) Patch(gvr schema.GroupVersionResource, obj runtime.Object, ns string, _ ...metav1.PatchOptions) error {
	return s.Update(gvr, obj, ns)
}

// Apply is not supported: the harness and the scheduler do not use
// server-side apply.
func (s *Store) Apply(gvr schema.GroupVersionResource, _ runtime.Object, _ string, _ ...metav1.PatchOptions) error {
	return apierrors.NewMethodNotSupported(gvr.GroupResource(), "apply")
}

// Delete removes an object.
func (s *Store) Delete(gvr schema.GroupVersionResource, ns, name string, _ ...metav1.DeleteOptions) error {
	return s.deleteIf(gvr, ns, name, nil)
}

// deleteIf removes an object if match (when given) accepts it, checked
// under the same lock as the removal.
func (s *Store) deleteIf(gvr schema.GroupVersionResource, ns, name string, match func(runtime.Object) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{ns, name}
	obj, ok := s.objects[gvr][k]
	if !ok || (match != nil && !match(obj)) {
		return apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	delete(s.objects[gvr], k)
	obj = obj.DeepCopyObject()
	m, _ := meta.Accessor(obj)
	s.emitLocked(gvr, watch.Deleted, obj, m)
	return nil
}

// List returns copies of the objects of a resource (in a namespace, or all
// for ""), as a typed list stamped with the current resource version.
// Label selectors are applied by the typed fake clients.
func (s *Store) List(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string, _ ...metav1.ListOptions) (runtime.Object, error) {
	listGVK := gvk
	listGVK.Kind += "List"
	list, err := scheme.Scheme.New(listGVK)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	items := make([]runtime.Object, 0, len(s.objects[gvr]))
	for k, obj := range s.objects[gvr] {
		if ns == "" || k.namespace == ns {
			items = append(items, obj.DeepCopyObject())
		}
	}
	rv := s.rv
	s.mu.RUnlock()
	if err := meta.SetList(list, items); err != nil {
		return nil, err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	lm.SetResourceVersion(strconv.FormatUint(rv, 10))
	return list, nil
}

// emitLocked stamps the next resource version on obj, records the event
// and hands it to the resource's watchers. s.mu is held.
func (s *Store) emitLocked(gvr schema.GroupVersionResource, t watch.EventType, obj runtime.Object, m metav1.Object) {
	s.rv++
	m.SetResourceVersion(strconv.FormatUint(s.rv, 10))
	ev := event{gvr: gvr, rv: s.rv, ev: watch.Event{Type: t, Object: obj}}
	s.history = append(s.history, ev)
	if len(s.history) > historyLimit {
		// Drop the oldest quarter at once so trimming stays amortised O(1).
		s.history = append([]event(nil), s.history[historyLimit/4:]...)
	}
	for w := range s.watchers[gvr] {
		w.offer(ev.ev)
	}
}

// Watch streams a resource's events in a namespace (all for ""), matching
// the label selector, starting after opts.ResourceVersion when one is given.
func (s *Store) Watch(gvr schema.GroupVersionResource, ns string, opts ...metav1.ListOptions) (watch.Interface, error) {
	var o metav1.ListOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	sel := labels.Everything()
	if o.LabelSelector != "" {
		var err error
		if sel, err = labels.Parse(o.LabelSelector); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("label selector %q: %v", o.LabelSelector, err))
		}
	}
	w := newWatcher(ns, sel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.ResourceVersion != "" && o.ResourceVersion != "0" {
		from, err := strconv.ParseUint(o.ResourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("resourceVersion %q: %v", o.ResourceVersion, err))
		}
		if len(s.history) > 0 && from+1 < s.history[0].rv {
			return nil, apierrors.NewResourceExpired(fmt.Sprintf("resourceVersion %d is too old", from))
		}
		for _, ev := range s.history {
			if ev.gvr == gvr && ev.rv > from {
				w.offer(ev.ev)
			}
		}
	}
	if s.watchers[gvr] == nil {
		s.watchers[gvr] = map[*watcher]struct{}{}
	}
	s.watchers[gvr][w] = struct{}{}
	w.onStop = func() {
		s.mu.Lock()
		delete(s.watchers[gvr], w)
		s.mu.Unlock()
	}
	return w, nil
}
