// Package explain implements the Explain scheduler plugin: it says why a
// pod went to its node (the chosen node's score per plugin, the next best
// nodes, how many nodes each filter turned away) or why it went nowhere,
// as an Event and an annotation on the pod (package explanation). Only
// pods that ask, or a sampled share, are explained; for the others it
// costs an annotation lookup per extension point. README.md has the rules.
package explain

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/explanation"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "Explain"

// Explain records, for the pods it explains, what the scheduler decided and
// why, by running the profile's own filter and score plugins again on the
// nodes of the same scheduling cycle.
type Explain struct {
	handle   framework.Handle
	percent  float64
	nextBest int
	// weights are the profile's score plugins' weights, read once the
	// framework is complete (it is not yet when the plugin is built).
	weights func() map[string]int32
}

var (
	_ framework.PreScorePlugin   = &Explain{}
	_ framework.ReservePlugin    = &Explain{}
	_ framework.PostBindPlugin   = &Explain{}
	_ framework.PostFilterPlugin = &Explain{}
)

// pluginLister is what the scheduler's framework offers besides the
// Handle: the plugins of the profile with their score weights.
type pluginLister interface {
	ListPlugins() *schedconfig.Plugins
}

// New builds the plugin. It needs the framework that runs it as its handle,
// to read the score plugins' weights.
func New(_ context.Context, obj runtime.Object, h framework.Handle) (framework.Plugin, error) {
	args, err := scheme.ExplainArgs(obj)
	if err != nil {
		return nil, err
	}
	if err := pluginkit.Validate(Name, args, validation.ValidateExplainArgs); err != nil {
		return nil, err
	}
	registerMetrics()
	lister, ok := h.(pluginLister)
	if !ok {
		return nil, fmt.Errorf("plugin %s needs the scheduler framework's plugin list; its handle %T has none", Name, h)
	}
	return &Explain{
		handle:   h,
		percent:  args.SamplePercent,
		nextBest: int(args.NextBestNodes),
		weights:  sync.OnceValue(func() map[string]int32 { return scoreWeights(lister.ListPlugins()) }),
	}, nil
}

// Name returns the plugin's name.
func (pl *Explain) Name() string { return Name }

func scoreWeights(p *schedconfig.Plugins) map[string]int32 {
	w := map[string]int32{}
	if p == nil {
		return w
	}
	for _, s := range p.Score.Enabled {
		w[s.Name] = s.Weight
	}
	return w
}

// wants says whether a pod is explained: it asked, or the profile samples
// it and it did not decline.
func (pl *Explain) wants(pod *v1.Pod) bool {
	switch pod.Annotations[explanation.RequestAnnotation] {
	case "true":
		return true
	case "false":
		return false
	}
	return pl.percent > 0 && Sampled(pod.Namespace, pod.Name, pl.percent)
}

// Sampled says whether the pod namespace/name falls in a sample of percent
// of all pods. It hashes the name, not the UID, so the same pods are
// sampled under every profile and in every run of a benchmark.
func Sampled(namespace, name string, percent float64) bool {
	h := fnv.New64a()
	h.Write([]byte(namespace))
	h.Write([]byte{'/'})
	h.Write([]byte(name))
	return float64(h.Sum64()%1_000_000) < percent*10_000
}

const (
	scoredKey    fwk.StateKey = Name + "/scored"
	explainedKey fwk.StateKey = Name + "/explained"
)

// scored holds the nodes the scheduler compared by score in this cycle.
type scored struct{ nodes []fwk.NodeInfo }

func (s *scored) Clone() fwk.StateData { return s }

// explained holds the placement's explanation from Reserve to PostBind.
type explained struct{ exp *explanation.Explanation }

func (e *explained) Clone() fwk.StateData { return e }

// PreScore keeps the nodes about to be scored, for a pod that is explained.
// The scheduler skips PreScore and Score when one node passed the filters.
func (pl *Explain) PreScore(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) *fwk.Status {
	if pl.wants(pod) {
		state.Write(scoredKey, &scored{nodes: nodes})
	}
	return nil
}

// Reserve explains the choice just made: the snapshot and the cycle state
// are still those the decision was made on (the snapshot changes only in
// the next cycle). It must come before other Reserve plugins, which may
// change what scores read (the shipped configuration lists it first).
func (pl *Explain) Reserve(ctx context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	if !pl.wants(pod) {
		return nil
	}
	exp, err := pl.explainPlacement(ctx, state, pod, nodeName)
	if err != nil {
		// An explanation never costs a pod its place.
		logger(ctx).Error(err, "Explaining a placement", "pod", klog.KObj(pod), "node", nodeName)
		explanations.WithLabelValues(outcomeFailed).Inc()
		return nil
	}
	state.Write(explainedKey, &explained{exp: exp})
	return nil
}

// Unreserve has nothing to undo: the explanation is written after binding.
func (pl *Explain) Unreserve(context.Context, fwk.CycleState, *v1.Pod, string) {}

// PostBind writes the explanation of a bound pod.
func (pl *Explain) PostBind(ctx context.Context, state fwk.CycleState, pod *v1.Pod, _ string) {
	d, err := state.Read(explainedKey)
	if err != nil {
		return
	}
	pl.publish(ctx, pod, d.(*explained).exp)
}

// PostFilter explains why no node passed the filters, from the verdicts
// the scheduler just collected, and steps aside for the PostFilter plugins
// that may still help (preemption): it runs first so that it always sees
// the pod, and never makes room itself.
func (pl *Explain) PostFilter(ctx context.Context, _ fwk.CycleState, pod *v1.Pod, statuses framework.NodeToStatusReader) (*framework.PostFilterResult, *fwk.Status) {
	if pl.wants(pod) {
		if exp, err := pl.explainFailure(pod, statuses); err != nil {
			logger(ctx).Error(err, "Explaining an unschedulable pod", "pod", klog.KObj(pod))
			explanations.WithLabelValues(outcomeFailed).Inc()
		} else {
			// The scheduling cycle does not wait for the API server.
			go pl.publish(context.WithoutCancel(ctx), pod, exp)
		}
	}
	return nil, fwk.NewStatus(fwk.Unschedulable)
}
