package resourceaware

import (
	"fmt"

	kubeschedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/placer-dev/placer/pkg/apis/config"
	configv1 "github.com/placer-dev/placer/pkg/apis/config/v1"
	// Defaulting goes through the scheduler's scheme, which must know our kinds.
	_ "github.com/placer-dev/placer/pkg/apis/config/scheme"
)

// DefaultArgs returns the plugin's arguments with every default applied, the
// same as a pluginConfig entry with empty args yields.
func DefaultArgs() (*config.ResourceAwareArgs, error) {
	v1args := &configv1.ResourceAwareArgs{}
	kubeschedulerscheme.Scheme.Default(v1args)
	args := &config.ResourceAwareArgs{}
	if err := kubeschedulerscheme.Scheme.Convert(v1args, args, nil); err != nil {
		return nil, fmt.Errorf("defaulting arguments of plugin %s: %w", Name, err)
	}
	return args, nil
}
