package resourceaware

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	configv1 "github.com/placer-dev/placer/pkg/apis/config/v1"
)

// DefaultArgs returns the plugin's arguments with every default applied, the
// same as a pluginConfig entry with empty args yields.
func DefaultArgs() (*config.ResourceAwareArgs, error) {
	return argsFrom(nil)
}

func argsFrom(obj runtime.Object) (*config.ResourceAwareArgs, error) {
	return scheme.PluginArgs(Name, obj, &configv1.ResourceAwareArgs{}, &config.ResourceAwareArgs{})
}
