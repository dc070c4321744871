package testkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	configv1 "k8s.io/kube-scheduler/config/v1"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// schedulerConfig resolves the configuration a caller gave in one of three
// ways (a file, YAML bytes, a versioned struct) into the internal form the
// scheduler runs, decoded, defaulted and validated exactly as the
// placer-scheduler binary does with --config. None of them means upstream
// kube-scheduler's default configuration. field prefixes error messages
// ("Options" or "BenchOptions").
func schedulerConfig(field, file string, yaml []byte, v1cfg *configv1.KubeSchedulerConfiguration) (*schedconfig.KubeSchedulerConfiguration, error) {
	var given []string
	if file != "" {
		given = append(given, field+".ConfigFile")
	}
	if yaml != nil {
		given = append(given, field+".ConfigYAML")
	}
	if v1cfg != nil {
		given = append(given, field+".Config")
	}
	switch {
	case len(given) > 1:
		return nil, fmt.Errorf("%v are all set: give the scheduler configuration one way", given)
	case file != "":
		cfg, err := inprocscheduler.LoadConfig(file)
		if err != nil {
			return nil, fmt.Errorf("%s.ConfigFile: %w", field, err)
		}
		return cfg, nil
	case yaml != nil:
		cfg, err := inprocscheduler.DecodeConfig(yaml)
		if err != nil {
			return nil, fmt.Errorf("%s.ConfigYAML: %w", field, err)
		}
		return cfg, nil
	case v1cfg != nil:
		// Through the same decoder as a file, so that the struct is defaulted
		// and validated the same way, and plugin args given as raw JSON are
		// decoded by the types registered for them.
		c := *v1cfg
		c.APIVersion, c.Kind = configv1.SchemeGroupVersion.String(), "KubeSchedulerConfiguration"
		data, err := json.Marshal(&c)
		if err != nil {
			return nil, fmt.Errorf("%s.Config: %w", field, err)
		}
		cfg, err := inprocscheduler.DecodeConfig(data)
		if err != nil {
			return nil, fmt.Errorf("%s.Config: %w", field, err)
		}
		return cfg, nil
	}
	return inprocscheduler.DefaultConfig()
}

// pickProfile returns the scheduler name the kit's pods ask for: name when
// given (it must be one of cfg's profiles), else the first profile's.
func pickProfile(field string, cfg *schedconfig.KubeSchedulerConfiguration, name string) (string, error) {
	var names []string
	for _, p := range cfg.Profiles {
		names = append(names, p.SchedulerName)
	}
	if len(names) == 0 {
		return "", errors.New("the scheduler configuration has no profiles")
	}
	if name == "" {
		return names[0], nil
	}
	if !slices.Contains(names, name) {
		return "", fmt.Errorf("%s.SchedulerName %q is not a profile of the configuration (profiles: %v)", field, name, names)
	}
	return name, nil
}
