package memapi

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

// watcher delivers events in order through an unbounded queue: the store
// never blocks on, or drops for, a slow consumer.
type watcher struct {
	namespace string
	selector  labels.Selector
	result    chan watch.Event
	onStop    func()

	mu      sync.Mutex
	queue   []watch.Event
	wake    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newWatcher(ns string, sel labels.Selector) *watcher {
	w := &watcher{namespace: ns, selector: sel, result: make(chan watch.Event),
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.pump()
	return w
}

// offer queues an event if it matches the watch's namespace and selector.
func (w *watcher) offer(ev watch.Event) {
	m, err := meta.Accessor(ev.Object)
	if err != nil {
		return
	}
	if w.namespace != "" && m.GetNamespace() != w.namespace {
		return
	}
	if !w.selector.Matches(labels.Set(m.GetLabels())) {
		return
	}
	w.mu.Lock()
	w.queue = append(w.queue, watch.Event{Type: ev.Type, Object: ev.Object.DeepCopyObject()})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) pump() {
	defer close(w.result)
	for {
		w.mu.Lock()
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range batch {
			select {
			case w.result <- ev:
			case <-w.stopped:
				return
			}
		}
		select {
		case <-w.wake:
		case <-w.stopped:
			return
		}
	}
}

// ResultChan returns the events.
func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

// Stop ends the watch.
func (w *watcher) Stop() {
	w.once.Do(func() {
		close(w.stopped)
		if w.onStop != nil {
			w.onStop()
		}
	})
}
