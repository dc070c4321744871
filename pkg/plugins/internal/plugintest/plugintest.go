// Package plugintest holds the steps the plugins' unit tests take alike:
// building a plugin from its (default) arguments, checking its queueing
// hints and its PreFilterExtensions, reading its counters, and writing the
// resources their nodes have and their pods ask for.
package plugintest

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Build builds a plugin with build from args, or from the defaults when
// args is nil, failing the test on any error.
func Build[A, P any](tb testing.TB, args *A, defaults func() (*A, error), build func(*A) (P, error)) P {
	tb.Helper()
	if args == nil {
		var err error
		if args, err = defaults(); err != nil {
			tb.Fatal(err)
		}
	}
	pl, err := build(args)
	if err != nil {
		tb.Fatal(err)
	}
	return pl
}

// Hint is one event a queueing hint is asked about: an object of resource
// Res changed from Old to New (nil for added or deleted), and the answer
// wanted for the pending pod.
type Hint struct {
	Name     string
	Res      fwk.EventResource
	Old, New any
	Want     fwk.QueueingHint
}

// CheckHints asks the hint pl registered for each case's resource about the
// case, for pending. Every event pl registers must come with a hint: without
// one the scheduler requeues the pod on every such event.
func CheckHints(t *testing.T, pl framework.EnqueueExtensions, pending *v1.Pod, cases []Hint) {
	t.Helper()
	logger, _ := ktesting.NewTestContext(t)
	events, err := pl.EventsToRegister(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hints := map[fwk.EventResource]fwk.QueueingHintFn{}
	for _, ev := range events {
		if ev.QueueingHintFn == nil {
			t.Errorf("%v registered without a hint", ev.Event)
		}
		hints[ev.Event.Resource] = ev.QueueingHintFn
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := hints[tc.Res](logger, pending, tc.Old, tc.New)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.Want {
				t.Errorf("hint %v, want %v", got, tc.Want)
			}
		})
	}
}

// Filterer is a plugin with a PreFilter that has extensions, and a Filter.
type Filterer interface {
	framework.PreFilterPlugin
	framework.FilterPlugin
}

// RemoveReopens checks what preemption asks of PreFilterExtensions: with
// victim (named for the messages) removed from its node from on a clone of
// state, Filter accepts pod on node, which state itself still rejects. It
// returns the clone, for further checks with pods added.
func RemoveReopens(t *testing.T, pl Filterer, state fwk.CycleState, pod *v1.Pod, victim fwk.PodInfo, from, node fwk.NodeInfo) fwk.CycleState {
	t.Helper()
	ctx := context.Background()
	what := state.Clone()
	if st := pl.PreFilterExtensions().RemovePod(ctx, what, pod, victim, from); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := pl.Filter(ctx, what, pod, node); !st.IsSuccess() {
		t.Errorf("with %s removed, %s still rejected: %v", victim.GetPod().Name, node.Node().Name, st)
	}
	if st := pl.Filter(ctx, state, pod, node); st.IsSuccess() {
		t.Error("RemovePod changed the original cycle state")
	}
	return what
}

// CounterValue reads one series of a counter vector; a series never touched
// reads 0. The counters are process wide, so tests compare before and after.
func CounterValue(t *testing.T, vec *metrics.CounterVec, label string) float64 {
	t.Helper()
	v, err := testutil.GetCounterMetricValue(vec.WithLabelValues(label))
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	return v
}

// Resources is a resource list from name, quantity pairs:
// Resources("cpu", "500m", "memory", "1Gi").
func Resources(pairs ...string) v1.ResourceList {
	out := v1.ResourceList{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out[v1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

// Requesting is a pod's containers: one, c, requesting the resources of
// Resources(pairs...).
func Requesting(pairs ...string) []v1.Container {
	return []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: Resources(pairs...)}}}
}
