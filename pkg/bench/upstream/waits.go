package upstream

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
)

// Waiting for pods, barriers and deleting pods.

// waitUIDsBound waits until every pod of uids was seen bound.
func (e *executor) waitUIDsBound(ctx context.Context, uids []types.UID) error {
	want := map[types.UID]bool{}
	for _, u := range uids {
		want[u] = true
	}
	return wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		pods, err := e.pods.List(labels.Everything())
		if err != nil {
			return false, err
		}
		n := 0
		for _, p := range pods {
			if want[p.UID] && p.Spec.NodeName != "" {
				n++
			}
		}
		return n == len(want), nil
	})
}

// waitPods waits until at least want pods of the namespace matching sel
// are scheduled (or, with attempted, scheduled or tried): scheduler_perf
// counts every pod in the namespace, not only the op's.
func (e *executor) waitPods(ctx context.Context, op, ns string, sel labels.Selector, want int, attempted bool) error {
	var pending *v1.Pod
	last := time.Time{}
	timeout := e.opts.WaitTimeout
	if timeout <= 0 {
		timeout = waitTimeout
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if e.opts.Progress != nil && time.Since(last) >= time.Second {
			created, bound, unsched := e.tracker.Progress()
			e.opts.Progress(op, created, bound, unsched)
			last = time.Now()
		}
		pods, err := e.runPods(ns, sel)
		if err != nil {
			return false, err
		}
		done := 0
		pending = nil
		for _, p := range pods {
			switch {
			case p.Spec.NodeName != "":
				done++
			case attempted && isAttempted(p):
				done++
			case pending == nil:
				pending = p
			}
		}
		return done >= want, nil
	})
	if err != nil && pending != nil {
		why := "not tried yet"
		for _, c := range pending.Status.Conditions {
			if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse {
				why = c.Reason + ": " + c.Message
			}
		}
		return fmt.Errorf("waiting for %d pods in namespace %s: at least pod %s is not scheduled (%s): %w", want, ns, pending.Name, why, err)
	}
	if err != nil {
		return fmt.Errorf("waiting for %d pods in namespace %s: %w", want, ns, err)
	}
	if e.opts.Progress != nil {
		created, bound, unsched := e.tracker.Progress()
		e.opts.Progress(op, created, bound, unsched)
	}
	return nil
}

func isAttempted(pod *v1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled {
			return true
		}
	}
	return false
}

func (e *executor) barrier(ctx context.Context, o *BarrierOp) error {
	namespaces := o.Namespaces
	if len(namespaces) == 0 {
		namespaces = sortedKeys(e.pending)
	}
	for _, ns := range namespaces {
		if _, ok := e.pending[ns]; !ok {
			return fmt.Errorf("unknown namespace %s: no op created it", ns)
		}
	}
	sel := labels.SelectorFromSet(o.LabelSelector)
	for _, ns := range namespaces {
		if err := e.waitPods(ctx, OpBarrier, ns, sel, e.pending[ns], o.StageRequirement == StageAttempted); err != nil {
			return err
		}
	}
	if o.StageRequirement == StageScheduled {
		// Nothing is pending in these namespaces any more.
		for _, ns := range namespaces {
			e.pending[ns] = 0
		}
	}
	return nil
}

func (e *executor) deletePods(ctx context.Context, s *Step) error {
	o := s.DeletePods
	pods, err := e.runPods(o.Namespace, labels.SelectorFromSet(o.LabelSelector))
	if err != nil {
		return err
	}
	del := func(ctx context.Context) {
		if o.DeletePodsPerSecond <= 0 {
			e.deleteEach(ctx, pods, metav1.DeleteOptions{})
			return
		}
		tick := time.NewTicker(time.Second / time.Duration(o.DeletePodsPerSecond))
		defer tick.Stop()
		for _, p := range pods {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_ = e.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		}
	}
	if o.SkipWaitToCompletion {
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			del(e.bgCtx)
		}()
		return nil
	}
	del(ctx)
	return ctx.Err()
}

// deleteEach deletes pods on podWorkers workers. A pod already gone is no
// error; the others are not either: scheduler_perf logs and goes on.
func (e *executor) deleteEach(ctx context.Context, pods []*v1.Pod, opts metav1.DeleteOptions) {
	workqueue.ParallelizeUntil(ctx, podWorkers, len(pods), func(i int) {
		_ = e.client.CoreV1().Pods(pods[i].Namespace).Delete(ctx, pods[i].Name, opts)
	})
}
