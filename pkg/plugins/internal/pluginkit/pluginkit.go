// Package pluginkit holds what Placer's scheduler plugins do alike: the
// extension points the placement plugins all implement, building a plugin
// from its pluginConfig arguments, their counters on the scheduler's
// /metrics, annotating a pod, and the recount preemption asks of the
// plugins that count pods.
package pluginkit

import (
	"context"
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Extensions are the extension points every placement plugin implements
// (ResourceAware, ZoneSpread, StatefulSetAware; not Explain): each
// keeps its own view of the cluster (hence Reserve and the queueing hints)
// and both filters and scores. A plugin asserts it once, at compile time.
type Extensions interface {
	framework.PreFilterPlugin
	framework.FilterPlugin
	framework.PreScorePlugin
	framework.ScorePlugin
	framework.ReservePlugin
	framework.EnqueueExtensions
}

// Build decodes a plugin's arguments from its pluginConfig entry (obj, nil
// for none) with decode, registers the plugin's metrics, then builds it with
// build, returning the arguments too for wiring informers by them. Metrics
// are registered before build because build looks up its counters, which
// read as no-ops until registered.
func Build[A, P any](obj runtime.Object, decode func(runtime.Object) (A, error), registerMetrics func(), build func(A) (P, error)) (P, A, error) {
	var pl P
	args, err := decode(obj)
	if err != nil {
		return pl, args, err
	}
	registerMetrics()
	pl, err = build(args)
	return pl, args, err
}

// Validate checks a plugin's arguments with validate under the path they
// have in a KubeSchedulerConfiguration (<name>Args), and names the plugin in
// the error, so that a scheduler refusing to start says which plugin's
// arguments are wrong.
func Validate[A any](name string, args A, validate func(*field.Path, A) error) error {
	if err := validate(field.NewPath(name+"Args"), args); err != nil {
		return fmt.Errorf("invalid arguments of plugin %s: %w", name, err)
	}
	return nil
}

// Counter is an ALPHA counter vector named placer_<subsystem>_<name> with
// one label, described by help. Callers take the label's values from the
// plugin's arguments or from fixed sets, so the number of series is bounded
// by the configuration, never by the cluster.
func Counter(subsystem, name, label, help string) *metrics.CounterVec {
	return metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      subsystem,
		Name:           name,
		Help:           help,
		StabilityLevel: metrics.ALPHA,
	}, []string{label})
}

// Registerer returns a function that registers vecs on the component-base
// legacy registry (the scheduler's /metrics) the first time it is called
// and does nothing after. component-base metrics record nothing until
// registered, so plugins built without New (unit tests of other behaviour)
// leave them untouched; registering twice would panic.
func Registerer(vecs ...metrics.Registerable) func() {
	return sync.OnceFunc(func() {
		legacyregistry.MustRegister(vecs...)
	})
}

// Recount is what preemption asks of a plugin that counts pods: update
// the counts in cycle for pod on nodeInfo by delta (1 added, -1 removed),
// leaving alone pods the counts are not about.
type Recount func(cycle fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo, delta int) *fwk.Status

// AddPod counts a nominated pod in.
func (r Recount) AddPod(_ context.Context, cycle fwk.CycleState, _ *v1.Pod, add fwk.PodInfo, nodeInfo fwk.NodeInfo) *fwk.Status {
	return r(cycle, add.GetPod(), nodeInfo, 1)
}

// RemovePod counts a victim out.
func (r Recount) RemovePod(_ context.Context, cycle fwk.CycleState, _ *v1.Pod, remove fwk.PodInfo, nodeInfo fwk.NodeInfo) *fwk.Status {
	return r(cycle, remove.GetPod(), nodeInfo, -1)
}
