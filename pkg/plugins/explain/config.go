package explain

import (
	"fmt"
	"slices"

	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
)

// Enable turns the plugin on in a decoded profile, sampling samplePercent
// of the pods, as the benchmark harness does for every profile it runs: at
// every extension point (multiPoint), and first among the Reserve and
// PostFilter plugins (see Reserve and PostFilter for why). A profile that
// already has the plugin keeps its arguments but the sampling.
func Enable(p *schedconfig.KubeSchedulerProfile, samplePercent float64) error {
	if p.Plugins == nil {
		p.Plugins = &schedconfig.Plugins{}
	}
	if !hasPlugin(p.Plugins.MultiPoint.Enabled) {
		p.Plugins.MultiPoint.Enabled = append(p.Plugins.MultiPoint.Enabled, schedconfig.Plugin{Name: Name})
	}
	for _, set := range []*schedconfig.PluginSet{&p.Plugins.Reserve, &p.Plugins.PostFilter} {
		set.Enabled = slices.DeleteFunc(set.Enabled, func(pl schedconfig.Plugin) bool { return pl.Name == Name })
		set.Enabled = slices.Insert(set.Enabled, 0, schedconfig.Plugin{Name: Name})
	}
	for i := range p.PluginConfig {
		if p.PluginConfig[i].Name != Name {
			continue
		}
		args, ok := p.PluginConfig[i].Args.(*config.ExplainArgs)
		if !ok {
			return fmt.Errorf("pluginConfig %s: arguments of type %T, not ExplainArgs", Name, p.PluginConfig[i].Args)
		}
		args.SamplePercent = samplePercent
		return nil
	}
	args, err := scheme.ExplainArgs(nil)
	if err != nil {
		return err
	}
	args.SamplePercent = samplePercent
	p.PluginConfig = append(p.PluginConfig, schedconfig.PluginConfig{Name: Name, Args: args})
	return nil
}

func hasPlugin(ps []schedconfig.Plugin) bool {
	return slices.ContainsFunc(ps, func(pl schedconfig.Plugin) bool { return pl.Name == Name })
}
