package scheme_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	schedconfigv1 "k8s.io/kube-scheduler/config/v1"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	kubeschedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/placer-dev/placer/pkg/apis/config"
	_ "github.com/placer-dev/placer/pkg/apis/config/scheme"
)

// decode runs a configuration file through the same decoder the scheduler
// uses for --config.
func decode(t *testing.T, yaml string) (*schedconfig.KubeSchedulerConfiguration, error) {
	t.Helper()
	obj, _, err := kubeschedulerscheme.Codecs.UniversalDecoder().Decode([]byte(yaml), nil, nil)
	if err != nil {
		return nil, err
	}
	return obj.(*schedconfig.KubeSchedulerConfiguration), nil
}

const header = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: placer
  pluginConfig:
  - name: ResourceAware
`

func resourceAwareArgs(t *testing.T, cfg *schedconfig.KubeSchedulerConfiguration) *config.ResourceAwareArgs {
	t.Helper()
	for _, pc := range cfg.Profiles[0].PluginConfig {
		if pc.Name == "ResourceAware" {
			args, ok := pc.Args.(*config.ResourceAwareArgs)
			if !ok {
				t.Fatalf("ResourceAware args decoded as %T", pc.Args)
			}
			return args
		}
	}
	t.Fatal("no ResourceAware pluginConfig")
	return nil
}

func TestDecodeDefaults(t *testing.T) {
	cfg, err := decode(t, header+"    args: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	want := &config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
		{Name: "nvidia.com/gpu", Strategy: config.MostAllocated, Weight: 5},
		{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1},
		{Name: "memory", Strategy: config.LeastAllocated, Weight: 1},
	}}
	want.ScarceResources = &config.ScarceResourcePolicy{Resources: []string{"nvidia.com/gpu"}, Weight: 5}
	want.GPUSharing = &config.GPUSharingPolicy{Enabled: true, Resource: "nvidia.com/gpu", ShareAnnotation: "placer.dev/gpu-milli",
		DeviceAnnotation: "placer.dev/gpu-device", ModelsAnnotation: "placer.dev/gpu-models", ModelLabel: "nvidia.com/gpu.product"}
	want.Fragmentation = &config.FragmentationPolicy{Enabled: true}
	got := resourceAwareArgs(t, cfg)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// Turning the device accounting off turns off the fragmentation score that
// reads it, unless the file says otherwise; the keys still get defaults.
func TestDecodeGPUSharingOffDefaultsFragmentationOff(t *testing.T) {
	cfg, err := decode(t, header+"    args: {gpuSharing: {enabled: false}}\n")
	if err != nil {
		t.Fatal(err)
	}
	got := resourceAwareArgs(t, cfg)
	want := &config.GPUSharingPolicy{Enabled: false, Resource: "nvidia.com/gpu", ShareAnnotation: "placer.dev/gpu-milli",
		DeviceAnnotation: "placer.dev/gpu-device", ModelsAnnotation: "placer.dev/gpu-models", ModelLabel: "nvidia.com/gpu.product"}
	if diff := cmp.Diff(want, got.GPUSharing); diff != "" {
		t.Errorf("gpuSharing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&config.FragmentationPolicy{Enabled: false}, got.Fragmentation); diff != "" {
		t.Errorf("fragmentation (-want +got):\n%s", diff)
	}
}

func TestDecodeOptionalComponents(t *testing.T) {
	cfg, err := decode(t, header+`    args:
      resources:
      - name: cpu
        maxRequestedPercent: 90
      scarceResources: {resources: []}
      fit: {}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := resourceAwareArgs(t, cfg)
	if c := got.Resources[0].MaxRequestedPercent; c == nil || *c != 90 {
		t.Errorf("maxRequestedPercent = %v, want 90", c)
	}
	// An explicit empty list turns steering off rather than taking the default.
	if sr := got.ScarceResources; sr == nil || len(sr.Resources) != 0 {
		t.Errorf("scarceResources = %+v, want an empty list", sr)
	}
	if diff := cmp.Diff(&config.FitPolicy{Strategy: config.LeastStranded, Weight: 1}, got.Fit); diff != "" {
		t.Errorf("fit defaults (-want +got):\n%s", diff)
	}
}

func TestDecodePerResourceDefaultsAndShape(t *testing.T) {
	cfg, err := decode(t, header+`    args:
      resources:
      - name: cpu
      - name: example.com/fpga
        strategy: RequestedToCapacityRatio
        weight: 7
        shape: [{utilization: 0, score: 10}, {utilization: 100, score: 0}]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []config.ResourcePolicy{
		{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1},
		{Name: "example.com/fpga", Strategy: config.RequestedToCapacityRatio, Weight: 7,
			Shape: []config.UtilizationShapePoint{{Utilization: 0, Score: 10}, {Utilization: 100, Score: 0}}},
	}
	if diff := cmp.Diff(want, resourceAwareArgs(t, cfg).Resources); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeRejectsUnknownField(t *testing.T) {
	_, err := decode(t, header+"    args: {resources: [{name: cpu, wieght: 2}]}\n")
	if err == nil || !strings.Contains(err.Error(), `unknown field "resources[0].wieght"`) {
		t.Errorf("got %v, want an unknown-field error naming resources[0].wieght", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	cfg, err := decode(t, header+"    args: {resources: [{name: cpu, strategy: MostAllocated, weight: 3}]}\n")
	if err != nil {
		t.Fatal(err)
	}
	// The scheduler writes its effective configuration back out
	// (--write-config-to, and its logs at -v=2); our args must survive that.
	info, ok := runtime.SerializerInfoForMediaType(kubeschedulerscheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeYAML)
	if !ok {
		t.Fatal("no YAML serializer")
	}
	enc := kubeschedulerscheme.Codecs.EncoderForVersion(info.Serializer, schedconfigv1.SchemeGroupVersion)
	var buf strings.Builder
	if err := enc.Encode(cfg, &buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: ResourceAwareArgs", "strategy: MostAllocated", "weight: 3"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("encoded config lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestDecodeZoneSpreadDefaults(t *testing.T) {
	cfg, err := decode(t, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: placer
  pluginConfig:
  - name: ZoneSpread
    args: {}
`)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := cfg.Profiles[0].PluginConfig[0].Args.(*config.ZoneSpreadArgs)
	if !ok {
		t.Fatalf("args decoded as %T", cfg.Profiles[0].PluginConfig[0].Args)
	}
	one := int32(1)
	want := &config.ZoneSpreadArgs{
		Constraints: []config.ZoneSpreadConstraint{
			{TopologyKey: "topology.kubernetes.io/zone", MaxSkew: &one},
			{TopologyKey: "kubernetes.io/hostname"},
		},
		GroupReplicaSetsByDeployment:    true,
		IgnorePodsWithSpreadConstraints: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeExplainDefaults(t *testing.T) {
	cfg, err := decode(t, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: placer
  pluginConfig:
  - name: Explain
    args: {}
`)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := cfg.Profiles[0].PluginConfig[0].Args.(*config.ExplainArgs)
	if !ok {
		t.Fatalf("args decoded as %T", cfg.Profiles[0].PluginConfig[0].Args)
	}
	// Off unless a pod asks; three nodes after the chosen one.
	if diff := cmp.Diff(&config.ExplainArgs{SamplePercent: 0, NextBestNodes: 3}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
