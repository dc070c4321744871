package runner

import (
	"fmt"
	"path/filepath"
	"strings"

	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/bench/measure"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// Profile is one scheduler profile under test. The measurement session
// starts it, so the type lives there; the name stays here, where the
// CLI, the test kit and the other executors have always found it.
type Profile = measure.Profile

// ResolveProfile turns a --profile value into a Profile: "default" is
// upstream kube-scheduler's default profile, "placer" the configuration in
// manifests/scheduler-config.yaml, anything else a KubeSchedulerConfiguration
// file with one profile.
func ResolveProfile(spec string) (*Profile, error) {
	var cfg *schedconfig.KubeSchedulerConfiguration
	var err error
	name := spec
	switch spec {
	case "default":
		cfg, err = inprocscheduler.DefaultConfig()
	case "placer":
		cfg, err = inprocscheduler.DecodeConfig(manifests.SchedulerConfig)
	default:
		cfg, err = inprocscheduler.LoadConfig(spec)
		name = strings.TrimSuffix(filepath.Base(spec), filepath.Ext(spec))
	}
	if err != nil {
		return nil, fmt.Errorf("--profile %s: %w", spec, err)
	}
	if n := len(cfg.Profiles); n != 1 {
		return nil, fmt.Errorf("--profile %s: the configuration has %d profiles; give a file with one", spec, n)
	}
	p := &Profile{Name: name, Config: cfg, SchedulerName: "placer-bench-" + name}
	cfg.Profiles[0].SchedulerName = p.SchedulerName
	return p, nil
}
