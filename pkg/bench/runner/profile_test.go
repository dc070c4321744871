package runner

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// exampleProfiles is the folder of the profiles users pass to --profile.
var exampleProfiles = filepath.Join(schedproc.RepoRoot(), "examples", "bench", "profiles")

// The example profiles are what users pass to --profile: each must load,
// and the arguments of Placer's plugins in it must pass the plugins' own
// validation, which the scheduler would otherwise run only when a
// benchmark starts.
func TestExampleProfilesResolve(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(exampleProfiles, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example profiles found (%v)", err)
	}
	for _, f := range files {
		p, err := ResolveProfile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, pc := range p.Config.Profiles[0].PluginConfig {
			var err error
			switch args := pc.Args.(type) {
			case *config.ResourceAwareArgs:
				err = validation.ValidateResourceAwareArgs(nil, args)
			case *config.ZoneSpreadArgs:
				err = validation.ValidateZoneSpreadArgs(nil, args)
			case *config.StatefulSetAwareArgs:
				err = validation.ValidateStatefulSetAwareArgs(nil, args)
			case *config.ExplainArgs:
				err = validation.ValidateExplainArgs(nil, args)
			}
			if err != nil {
				t.Errorf("%s: %s: %v", f, pc.Name, err)
			}
		}
	}
}

// placer-gpu-spread.yaml says it is the shipped profile with GPUs spread
// and the fragmentation score off (docs/traces.md measures it as such):
// anything else that differs would make those figures another profile's.
func TestGPUSpreadProfileIsTheShippedOneWithTwoChanges(t *testing.T) {
	shipped, err := inprocscheduler.DecodeConfig(manifests.SchedulerConfig)
	if err != nil {
		t.Fatal(err)
	}
	spread, err := inprocscheduler.LoadConfig(filepath.Join(exampleProfiles, "placer-gpu-spread.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := shipped.Profiles[0].DeepCopy()
	want.SchedulerName = "placer-gpu-spread"
	changed := 0
	for _, pc := range want.PluginConfig {
		args, ok := pc.Args.(*config.ResourceAwareArgs)
		if !ok {
			continue
		}
		for i := range args.Resources {
			if args.Resources[i].Name == "nvidia.com/gpu" {
				args.Resources[i].Strategy = config.LeastAllocated
				changed++
			}
		}
		if args.Fragmentation != nil && args.Fragmentation.Enabled {
			args.Fragmentation.Enabled = false
			changed++
		}
	}
	if changed != 2 {
		t.Fatalf("the shipped profile no longer has a GPU resource and ResourceAware arguments (%d changes made)", changed)
	}
	if diff := cmp.Diff(*want, spread.Profiles[0]); diff != "" {
		t.Errorf("placer-gpu-spread.yaml differs from the shipped profile by more than the GPU strategy and fragmentation (-want +file):\n%s", diff)
	}
}
