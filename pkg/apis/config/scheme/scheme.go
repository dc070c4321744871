// Package scheme puts Placer's plugin argument types into the kube-scheduler's
// configuration scheme. Importing it (the registry package does) is what lets
// a KubeSchedulerConfiguration file carry pluginConfig for Placer's plugins.
package scheme

import (
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

// Default applies the v1 defaults to versioned (a zero v1 args object) and
// converts the result into internal: what a pluginConfig entry with empty
// args yields. Plugins use it for a profile that enables them without
// pluginConfig.
func Default(versioned, internal runtime.Object) error {
	kubeschedulerscheme.Scheme.Default(versioned)
	return kubeschedulerscheme.Scheme.Convert(versioned, internal, nil)
}
