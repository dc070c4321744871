// Package registry lists every out-of-tree plugin the placer-scheduler binary
// carries: Placer's own plugins and the production plugins of
// sigs.k8s.io/scheduler-plugins. The binary, the benchmark harness and the
// test kit all build their schedulers from this one list, so a plugin added
// here is reachable everywhere at once.
package registry

import (
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"sigs.k8s.io/scheduler-plugins/pkg/capacityscheduling"
	"sigs.k8s.io/scheduler-plugins/pkg/coscheduling"
	"sigs.k8s.io/scheduler-plugins/pkg/networkaware/networkoverhead"
	"sigs.k8s.io/scheduler-plugins/pkg/networkaware/topologicalsort"
	"sigs.k8s.io/scheduler-plugins/pkg/noderesources"
	"sigs.k8s.io/scheduler-plugins/pkg/noderesourcetopology"
	"sigs.k8s.io/scheduler-plugins/pkg/preemptiontoleration"
	"sigs.k8s.io/scheduler-plugins/pkg/sysched"
	"sigs.k8s.io/scheduler-plugins/pkg/trimaran/loadvariationriskbalancing"
	"sigs.k8s.io/scheduler-plugins/pkg/trimaran/lowriskovercommitment"
	"sigs.k8s.io/scheduler-plugins/pkg/trimaran/peaks"
	"sigs.k8s.io/scheduler-plugins/pkg/trimaran/targetloadpacking"

	// The scheduler-plugins argument types must be in the scheduler's
	// scheme before any configuration file is decoded.
	_ "sigs.k8s.io/scheduler-plugins/apis/config/scheme"

	// Placer's argument types, likewise.
	_ "github.com/placer-dev/placer/pkg/apis/config/scheme"

	"github.com/placer-dev/placer/pkg/plugins/explain"
	"github.com/placer-dev/placer/pkg/plugins/resourceaware"
	"github.com/placer-dev/placer/pkg/plugins/statefulsetaware"
	"github.com/placer-dev/placer/pkg/plugins/zonespread"
)

// Placer returns the registry of Placer's own plugins.
func Placer() frameworkruntime.Registry {
	return frameworkruntime.Registry{
		resourceaware.Name:    resourceaware.New,
		zonespread.Name:       zonespread.New,
		statefulsetaware.Name: statefulsetaware.New,
		explain.Name:          explain.New,
	}
}

// SchedulerPlugins returns the registry of the production plugins of
// sigs.k8s.io/scheduler-plugins, the same set its own kube-scheduler
// registers, without its samples (PodState, QOSSort, CrossNodePreemption).
func SchedulerPlugins() frameworkruntime.Registry {
	return frameworkruntime.Registry{
		capacityscheduling.Name:         capacityscheduling.New,
		coscheduling.Name:               coscheduling.New,
		loadvariationriskbalancing.Name: loadvariationriskbalancing.New,
		networkoverhead.Name:            networkoverhead.New,
		topologicalsort.Name:            topologicalsort.New,
		noderesources.AllocatableName:   noderesources.NewAllocatable,
		noderesourcetopology.Name:       noderesourcetopology.New,
		preemptiontoleration.Name:       preemptiontoleration.New,
		targetloadpacking.Name:          targetloadpacking.New,
		lowriskovercommitment.Name:      lowriskovercommitment.New,
		sysched.Name:                    sysched.New,
		peaks.Name:                      peaks.New,
	}
}

// All returns every out-of-tree plugin the binary carries.
func All() frameworkruntime.Registry {
	all := Placer()
	if err := all.Merge(SchedulerPlugins()); err != nil {
		// Both lists are fixed at compile time; a clash is a programming error.
		panic(err)
	}
	return all
}

// Options turns All into options for app.NewSchedulerCommand.
func Options() []app.Option {
	all := All()
	opts := make([]app.Option, 0, len(all))
	for name, factory := range all {
		opts = append(opts, app.WithPlugin(name, factory))
	}
	return opts
}
