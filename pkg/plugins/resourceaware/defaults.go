package resourceaware

import (
	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
)

// DefaultArgs returns the plugin's arguments with every default applied, the
// same as a pluginConfig entry with empty args yields.
func DefaultArgs() (*config.ResourceAwareArgs, error) {
	return scheme.ResourceAwareArgs(nil)
}
