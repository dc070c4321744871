package testkit

import (
	"strings"
	"testing"

	configv1 "k8s.io/kube-scheduler/config/v1"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/wanterr"
)

func TestOptionsValidate(t *testing.T) {
	external := func(testing.TB, *Env) {}
	for _, tc := range []struct {
		name string
		opts Options
		want []string // each must appear in the error; none: valid
	}{
		{name: "zero value", opts: Options{}},
		{name: "memory", opts: Options{Backend: Memory}},
		{name: "external", opts: Options{External: external, SchedulerName: "placer"}},
		{name: "unknown backend", opts: Options{Backend: "cloud"},
			want: []string{`Options.Backend "cloud": want "embedded" or "memory"`}},
		{name: "external on memory", opts: Options{Backend: Memory, External: external, SchedulerName: "placer"},
			want: []string{"Options.External needs an API server", "not Memory"}},
		{name: "external without scheduler name", opts: Options{External: external},
			want: []string{"Options.SchedulerName is required with Options.External"}},
		{name: "external with in-process settings", opts: Options{External: external, SchedulerName: "placer",
			Registry: frameworkruntime.Registry{}, ConfigFile: "x.yaml"},
			want: []string{"Options.ConfigFile is set, but Options.External", "Options.Registry is set, but Options.External"}},
		{name: "negative timeout", opts: Options{Timeout: -1},
			want: []string{"Options.Timeout -1ns: must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wanterr.Check(t, "validate()", tc.opts.validate(), tc.want)
		})
	}
}

func TestSchedulerConfig(t *testing.T) {
	// Nothing given: upstream's default profile.
	cfg, err := schedulerConfig("Options", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := pickProfile("Options", cfg, ""); err != nil || name != "default-scheduler" {
		t.Errorf("default configuration: profile %q, %v; want default-scheduler", name, err)
	}

	// Two ways at once is a mistake, named.
	_, err = schedulerConfig("Options", "a.yaml", []byte("x"), nil)
	if err == nil || !strings.Contains(err.Error(), "Options.ConfigFile") || !strings.Contains(err.Error(), "Options.ConfigYAML") {
		t.Errorf("file and YAML: %v", err)
	}

	// A missing file and bad YAML name the field.
	if _, err := schedulerConfig("BenchOptions", "/no/such.yaml", nil, nil); err == nil || !strings.Contains(err.Error(), "BenchOptions.ConfigFile") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := schedulerConfig("Options", "", []byte("kind: Nope\napiVersion: v9\n"), nil); err == nil || !strings.Contains(err.Error(), "Options.ConfigYAML") {
		t.Errorf("bad YAML: %v", err)
	}

	// The versioned struct is defaulted and validated as a file is.
	cfg, err = schedulerConfig("Options", "", nil, &configv1.KubeSchedulerConfiguration{
		Profiles: []configv1.KubeSchedulerProfile{{SchedulerName: ptr.To("one")}, {SchedulerName: ptr.To("two")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Profiles) != 2 {
		t.Fatalf("%d profiles, want 2", len(cfg.Profiles))
	}
	if cfg.Parallelism != 16 || len(cfg.Profiles[1].Plugins.MultiPoint.Enabled) == 0 {
		t.Errorf("struct not defaulted: parallelism %d, profiles %d, plugins of the second %+v", cfg.Parallelism, len(cfg.Profiles), cfg.Profiles[1].Plugins)
	}
	if name, err := pickProfile("Options", cfg, "two"); err != nil || name != "two" {
		t.Errorf("pick two: %q, %v", name, err)
	}
	if _, err := pickProfile("Options", cfg, "three"); err == nil || !strings.Contains(err.Error(), `Options.SchedulerName "three" is not a profile`) ||
		!strings.Contains(err.Error(), "[one two]") {
		t.Errorf("pick three: %v", err)
	}
	_, err = schedulerConfig("Options", "", nil, &configv1.KubeSchedulerConfiguration{Parallelism: ptr.To[int32](-1)})
	if err == nil || !strings.Contains(err.Error(), "Options.Config") || !strings.Contains(err.Error(), "parallelism") {
		t.Errorf("invalid struct: %v", err)
	}
}
