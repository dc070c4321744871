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
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
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

	// gpu is the device accounting, nil when off; ledger its state, kept
	// from Reserve, Unreserve and the pod informer; podsSynced reports
	// that the informer has delivered the pods there were at the start.
	gpu        *gpuSharing
	ledger     *deviceLedger
	podsSynced func() bool
	// mix is the GPU pod shapes seen so far, for the fragmentation score
	// (nil when off).
	mix *podMix
}

var (
	_ pluginkit.Extensions     = &ResourceAware{}
	_ framework.PostBindPlugin = &ResourceAware{}
	_ framework.PreBindPlugin  = &ResourceAware{}
)

// New builds the plugin from its (already defaulted) arguments, rejecting
// invalid ones with an error that names the plugin, the field and the value.
func New(_ context.Context, obj runtime.Object, h framework.Handle) (framework.Plugin, error) {
	pl, _, err := pluginkit.Build(obj, scheme.ResourceAwareArgs, registerMetrics, func(args *config.ResourceAwareArgs) (*ResourceAware, error) {
		return newWithArgs(args, h)
	})
	if err != nil {
		return nil, err
	}
	return pl, nil
}

func newWithArgs(args *config.ResourceAwareArgs, h framework.Handle) (*ResourceAware, error) {
	if err := pluginkit.Validate(Name, args, validation.ValidateResourceAwareArgs); err != nil {
		return nil, err
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
	if pl.gpu = newGPUSharing(args.GPUSharing); pl.gpu != nil {
		pl.ledger = newDeviceLedger()
		if f := args.Fragmentation; f != nil && f.Enabled {
			pl.mix = newPodMix()
		}
		pl.podsSynced = func() bool { return true }
		if h != nil && h.SharedInformerFactory() != nil {
			reg, err := h.SharedInformerFactory().Core().V1().Pods().Informer().AddEventHandler(pl.podHandler())
			if err != nil {
				return nil, fmt.Errorf("%s: watching pods for GPU device accounting: %w", Name, err)
			}
			pl.podsSynced = reg.HasSynced
		}
	}
	if args.Fit != nil {
		pl.fit = &fitScorer{strategy: args.Fit.Strategy, weight: args.Fit.Weight}
	}
	return pl, nil
}

// Name returns the plugin's name.
func (pl *ResourceAware) Name() string { return Name }
