package testkit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitScheduled waits until every current pod of the workloads (of every
// workload the Env created, when none are given) is bound, and returns their
// placements in the workloads' order. If the Env's timeout passes first it
// fails the test, listing each pod still unbound with the scheduler's
// reason.
func (e *Env) WaitScheduled(ws ...*Workload) Placements {
	e.tb.Helper()
	return e.waitFor("scheduled", ws, func(p Placement) bool { return p.Bound() })
}

// WaitSettled waits until every current pod of the workloads (of every
// workload, when none are given) is either bound or found unschedulable by
// the scheduler, and returns their placements: Placement.Unschedulable and
// Placement.Message tell why a pod has no node. A pod found unschedulable
// stays in the scheduler's queue and may be bound later, when something
// changes; WaitSettled reports the first decision.
func (e *Env) WaitSettled(ws ...*Workload) Placements {
	e.tb.Helper()
	return e.waitFor("scheduled or found unschedulable", ws, func(p Placement) bool { return p.Bound() || p.Unschedulable })
}

func (e *Env) waitFor(what string, ws []*Workload, done func(Placement) bool) Placements {
	e.tb.Helper()
	if len(ws) == 0 {
		e.mu.Lock()
		ws = append(ws, e.workloads...)
		e.mu.Unlock()
	}
	var pods []types.NamespacedName
	var names []string
	for _, w := range ws {
		pods = append(pods, w.Pods()...)
		names = append(names, w.Spec.Name)
	}
	var last Placements
	var lastErr error
	err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, e.timeout, true, func(context.Context) (bool, error) {
		last, lastErr = e.readPlacements(pods)
		if lastErr != nil {
			return false, nil // the API may be busy; the timeout decides
		}
		for _, p := range last {
			if !done(p) {
				return false, nil
			}
		}
		return true, nil
	})
	if err == nil {
		return last
	}
	var b strings.Builder
	fmt.Fprintf(&b, "testkit: pods of %s not all %s within %v (%v)", strings.Join(names, ", "), what, e.timeout, err)
	if lastErr != nil {
		fmt.Fprintf(&b, "; last error: %v", lastErr)
	}
	const show = 20
	shown := 0
	for _, p := range last {
		if done(p) {
			continue
		}
		if shown == show {
			b.WriteString("\n  ...")
			break
		}
		shown++
		msg := p.Reason
		if msg == "" {
			msg = "no decision by the scheduler yet (does a running profile have its schedulerName?)"
		}
		fmt.Fprintf(&b, "\n  %s/%s: %s", p.Namespace, p.Name, msg)
	}
	e.tb.Fatal(b.String())
	return nil
}
