// Package resourceaware implements the ResourceAware scheduler plugin:
// placement that treats each resource on its own terms (pack GPUs, spread
// cpu) for any resource a node advertises, standard or extended; keeps
// headroom on nodes (Filter); keeps scarce resources for the pods that need
// them; and can pack by the fit of whole request vectors, leaving the least
// capacity stranded. README.md has the formulas.
package resourceaware

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "ResourceAware"

// ResourceAware scores nodes by per-resource strategies.
type ResourceAware struct {
	handle       framework.Handle
	nodeInfos    framework.NodeInfoLister // nil without a handle (unit tests)
	requests     requestOptions
	resources    []resourceScorer
	ceilings     []ceiling
	fit          *fitScorer
	scarce       []v1.ResourceName
	scarceWeight int64
}

var (
	_ framework.PreFilterPlugin   = &ResourceAware{}
	_ framework.FilterPlugin      = &ResourceAware{}
	_ framework.EnqueueExtensions = &ResourceAware{}
	_ framework.PreScorePlugin    = &ResourceAware{}
	_ framework.ScorePlugin       = &ResourceAware{}
	_ framework.ReservePlugin     = &ResourceAware{}
	_ framework.PostBindPlugin    = &ResourceAware{}
)

// New builds the plugin from its (already defaulted) arguments, rejecting
// invalid ones with an error that names the plugin, the field and the value.
func New(_ context.Context, obj runtime.Object, h framework.Handle) (framework.Plugin, error) {
	args, err := argsFrom(obj)
	if err != nil {
		return nil, err
	}
	// Registered first: newWithArgs looks up the counters, which read as
	// no-ops until registered.
	registerMetrics()
	pl, err := newWithArgs(args, h)
	if err != nil {
		return nil, err
	}
	return pl, nil
}

func newWithArgs(args *config.ResourceAwareArgs, h framework.Handle) (*ResourceAware, error) {
	if err := validation.ValidateResourceAwareArgs(field.NewPath(Name+"Args"), args); err != nil {
		return nil, fmt.Errorf("invalid arguments of plugin %s: %w", Name, err)
	}
	pl := &ResourceAware{
		handle: h,
		requests: requestOptions{
			useStatusResources: utilfeature.DefaultFeatureGate.Enabled(features.InPlacePodVerticalScaling),
			podLevelResources:  utilfeature.DefaultFeatureGate.Enabled(features.PodLevelResources),
		},
	}
	for _, r := range args.Resources {
		pl.resources = append(pl.resources, newResourceScorer(r))
		if r.MaxRequestedPercent != nil {
			pl.ceilings = append(pl.ceilings, ceiling{name: v1.ResourceName(r.Name), percent: int64(*r.MaxRequestedPercent),
				rejected: filterRejections.WithLabelValues(r.Name)})
		}
	}
	if sr := args.ScarceResources; sr != nil {
		for _, name := range sr.Resources {
			pl.scarce = append(pl.scarce, v1.ResourceName(name))
		}
		pl.scarceWeight = sr.Weight
	}
	if h != nil {
		pl.nodeInfos = h.SnapshotSharedLister().NodeInfos()
	}
	if args.Fit != nil {
		pl.fit = &fitScorer{strategy: args.Fit.Strategy, weight: args.Fit.Weight}
	}
	return pl, nil
}

// Name returns the plugin's name.
func (pl *ResourceAware) Name() string { return Name }
