// Package scheme puts Placer's plugin argument types into the kube-scheduler's
// configuration scheme. Importing it (the registry package does) is what lets
// a KubeSchedulerConfiguration file carry pluginConfig for Placer's plugins.
package scheme

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kubeschedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/placer-dev/placer/pkg/apis/config"
	configv1 "github.com/placer-dev/placer/pkg/apis/config/v1"
)

func init() {
	// The kube-scheduler's scheme was filled by its own init before ours ran,
	// so our kinds have to be added to it explicitly.
	AddToScheme(kubeschedulerscheme.Scheme)
}

// AddToScheme adds the internal and v1 argument types of Placer's plugins to s.
func AddToScheme(s *runtime.Scheme) {
	utilruntime.Must(config.AddToScheme(s))
	utilruntime.Must(configv1.AddToScheme(s))
}

// PluginArgs is what a plugin's factory does with the args the scheduler
// hands it: the internal args as they are, or, when there are none (a
// profile enabling the plugin without pluginConfig), the defaults: the v1
// defaults applied to versioned (a zero v1 args object) and converted into
// internal (a zero internal args object), as an empty pluginConfig entry
// would give.
func PluginArgs[T runtime.Object](plugin string, obj runtime.Object, versioned runtime.Object, internal T) (T, error) {
	var zero T
	if obj == nil {
		kubeschedulerscheme.Scheme.Default(versioned)
		if err := kubeschedulerscheme.Scheme.Convert(versioned, internal, nil); err != nil {
			return zero, fmt.Errorf("defaulting arguments of plugin %s: %w", plugin, err)
		}
		return internal, nil
	}
	args, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("plugin %s wants arguments of type %T, got %T", plugin, internal, obj)
	}
	return args, nil
}

// ResourceAwareArgs, ZoneSpreadArgs and StatefulSetAwareArgs are PluginArgs
// for each of Placer's plugins (named after their kinds, <plugin>Args): the
// one place that pairs each kind's internal and v1 types, so the plugins
// need not know the versions.
func ResourceAwareArgs(obj runtime.Object) (*config.ResourceAwareArgs, error) {
	return PluginArgs("ResourceAware", obj, &configv1.ResourceAwareArgs{}, &config.ResourceAwareArgs{})
}

// ZoneSpreadArgs: see ResourceAwareArgs.
func ZoneSpreadArgs(obj runtime.Object) (*config.ZoneSpreadArgs, error) {
	return PluginArgs("ZoneSpread", obj, &configv1.ZoneSpreadArgs{}, &config.ZoneSpreadArgs{})
}

// StatefulSetAwareArgs: see ResourceAwareArgs.
func StatefulSetAwareArgs(obj runtime.Object) (*config.StatefulSetAwareArgs, error) {
	return PluginArgs("StatefulSetAware", obj, &configv1.StatefulSetAwareArgs{}, &config.StatefulSetAwareArgs{})
}

// ExplainArgs: see ResourceAwareArgs.
func ExplainArgs(obj runtime.Object) (*config.ExplainArgs, error) {
	return PluginArgs("Explain", obj, &configv1.ExplainArgs{}, &config.ExplainArgs{})
}
