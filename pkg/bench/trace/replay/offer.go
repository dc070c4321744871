package replay

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/trace"
)

// offerFGD offers the drawn pods one at a time, as the FGD paper's
// simulator does: the next pod only once the scheduler has bound the last
// or found it unschedulable. An unschedulable pod is counted and deleted,
// so that it neither retries nor holds a place in the queue; nothing else
// departs. A point of the curve follows each pod.
func (r *replay) offerFGD(ctx context.Context, pods []trace.Pod) error {
	var arrived int64
	for i := range pods {
		p := &pods[i]
		bound, err := r.offer(ctx, p)
		if err != nil {
			return err
		}
		arrived += p.GPURequestMilli()
		if p.Sharing() {
			r.tr.SharingPods++
		}
		if bound {
			r.tr.Placed[p.Shape()]++
		} else {
			r.tr.Failed[p.Shape()]++
			if err := r.delete(ctx, p.Name); err != nil {
				return err
			}
		}
		r.st.mu.Lock()
		allocated := r.st.allocated
		r.st.mu.Unlock()
		r.tr.AddPoint(arrived, allocated)
		r.progress(false)
	}
	r.progress(true)
	return nil
}

// offer creates one pod and waits for the scheduler's verdict.
func (r *replay) offer(ctx context.Context, p *trace.Pod) (bound bool, err error) {
	ch := make(chan struct{}, 1)
	r.st.mu.Lock()
	r.st.waiters[p.Name] = ch
	r.st.mu.Unlock()
	defer func() {
		r.st.mu.Lock()
		delete(r.st.waiters, p.Name)
		r.st.mu.Unlock()
	}()
	if err := r.create(ctx, p); err != nil {
		return false, err
	}
	timeout := time.NewTimer(verdictTimeout)
	defer timeout.Stop()
	for {
		r.st.mu.Lock()
		isBound := r.st.bound[p.Name]
		_, isUnsched := r.st.unsched[p.Name]
		r.st.mu.Unlock()
		if isBound || isUnsched {
			return isBound, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false, ctx.Err()
		case <-timeout.C:
			return false, fmt.Errorf("pod %s: neither bound nor found unschedulable after %v", p.Name, verdictTimeout)
		}
	}
}

func (r *replay) create(ctx context.Context, p *trace.Pod) error {
	r.st.offered(p.Name, p.GPURequestMilli(), offeredAsShare(p, r.opts.GPUSharing))
	if _, err := r.workloads.CreatePod(ctx, pod(p, r.opts.RunID, r.profile.SchedulerName, r.opts.GPUSharing), nil, true); err != nil {
		return err
	}
	r.offered++
	return nil
}

// delete removes a pod at once: no kubelet runs it, so a grace period
// would leave it, and its GPUs, in place.
func (r *replay) delete(ctx context.Context, name string) error {
	zero := int64(0)
	err := r.client.CoreV1().Pods(Namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting pod %s: %w", name, err)
	}
	return nil
}

// settleTimeout bounds the wait, after a timeline's last event, for the
// scheduler's verdict on the pods still waiting.
const settleTimeout = time.Minute

// offerTimeline replays the trace's own times: each pod is created at its
// arrival and deleted at its departure, whatever became of it; the
// scheduler works as it would on a live cluster, retrying pods that did
// not fit when capacity frees. A point of the curve follows each arrival,
// with the GPU bound pods hold at that moment. A pod that departs before
// the scheduler decided on it counts as neither placed nor failed: the
// speed outpaced the scheduler.
func (r *replay) offerTimeline(ctx context.Context, events []trace.Event) error {
	start := time.Now()
	var arrived int64
	live := map[string]bool{}
	// outcome: each pod's fate, judged as it departs or at the end.
	outcome := map[string]string{}
	for _, e := range events {
		if wait := time.Until(start.Add(time.Duration(e.At * float64(time.Second)))); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		p := &r.t.Pods[e.Pod]
		if !e.Arrive {
			outcome[p.Name] = r.st.outcome(p.Name)
			delete(live, p.Name)
			if err := r.delete(ctx, p.Name); err != nil {
				return err
			}
			continue
		}
		if err := r.create(ctx, p); err != nil {
			return err
		}
		live[p.Name] = true
		arrived += p.GPURequestMilli()
		if p.Sharing() {
			r.tr.SharingPods++
		}
		r.st.mu.Lock()
		allocated := r.st.allocated
		r.st.mu.Unlock()
		r.tr.AddPoint(arrived, allocated)
		r.progress(false)
	}
	r.settle(ctx, live)
	for name := range live {
		outcome[name] = r.st.outcome(name)
	}
	r.tr.NoVerdict = map[string]int{}
	for i := range r.t.Pods {
		p := &r.t.Pods[i]
		switch outcome[p.Name] {
		case outcomeBound:
			r.tr.Placed[p.Shape()]++
		case outcomeUnschedulable:
			r.tr.Failed[p.Shape()]++
		default:
			r.tr.NoVerdict[p.Shape()]++
		}
	}
	r.progress(true)
	return ctx.Err()
}

const (
	outcomeBound         = "bound"
	outcomeUnschedulable = "unschedulable"
)

// outcome is a pod's fate so far: bound (at any time), found
// unschedulable, or "" when the scheduler has not decided yet.
func (s *state) outcome(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.everBound[name]:
		return outcomeBound
	case s.unschedSeen[name]:
		return outcomeUnschedulable
	}
	return ""
}

// settle waits until every pod still there is bound or found
// unschedulable, or settleTimeout passes.
func (r *replay) settle(ctx context.Context, live map[string]bool) {
	deadline := time.Now().Add(settleTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r.st.mu.Lock()
		undecided := 0
		for name := range live {
			if _, u := r.st.unsched[name]; !r.st.bound[name] && !u {
				undecided++
			}
		}
		r.st.mu.Unlock()
		if undecided == 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}
