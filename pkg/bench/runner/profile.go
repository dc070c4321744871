package runner

import (
	"fmt"
	"path/filepath"
	"strings"

	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// Profile is one scheduler profile under test.
type Profile struct {
	// Name is how reports call it: "default", "placer", or a file's base name.
	Name string
	// Config holds exactly one profile, renamed SchedulerName.
	Config *schedconfig.KubeSchedulerConfiguration
	// SchedulerName is what the run's pods ask for. It is the harness's own
	// ("placer-bench-<name>"), so that on a real cluster neither the
	// cluster's scheduler nor an installed placer-scheduler takes the pods.
	SchedulerName string
	// Registry holds the out-of-tree plugins the scheduler is built with;
	// nil means registry.All(), the plugins placer-scheduler carries. The
	// test kit sets it to benchmark plugins that are not Placer's.
	Registry frameworkruntime.Registry
}

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
