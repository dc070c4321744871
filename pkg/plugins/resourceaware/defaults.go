package resourceaware

import (
	"fmt"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	configv1 "github.com/placer-dev/placer/pkg/apis/config/v1"
)

// DefaultArgs returns the plugin's arguments with every default applied, the
// same as a pluginConfig entry with empty args yields.
func DefaultArgs() (*config.ResourceAwareArgs, error) {
	args := &config.ResourceAwareArgs{}
	if err := scheme.Default(&configv1.ResourceAwareArgs{}, args); err != nil {
		return nil, fmt.Errorf("defaulting arguments of plugin %s: %w", Name, err)
	}
	return args, nil
}
