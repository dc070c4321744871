package v1

import (
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/gpushare"
)

// Names of the resources the defaults talk about.
const (
	resourceGPU = gpushare.Resource
)

// defaultResources is what ResourceAware does when given no resources: pack
// GPUs, the scarce and costly resource, onto as few nodes as possible, and
// spread cpu and memory so that nodes keep room to burst. The GPU weight
// outweighs cpu and memory together, so GPU packing wins when they disagree.
func defaultResources() []ResourcePolicy {
	return []ResourcePolicy{
		{Name: resourceGPU, Strategy: "MostAllocated", Weight: ptr.To[int64](5)},
		{Name: "cpu", Strategy: "LeastAllocated", Weight: ptr.To[int64](1)},
		{Name: "memory", Strategy: "LeastAllocated", Weight: ptr.To[int64](1)},
	}
}

// Weights of the optional score components when the user names none.
const (
	defaultScarceWeight = 5
	defaultFitWeight    = 1
)

// SetDefaults_ResourceAwareArgs fills in what the user left out.
func SetDefaults_ResourceAwareArgs(obj *ResourceAwareArgs) {
	if len(obj.Resources) == 0 {
		obj.Resources = defaultResources()
	}
	if obj.ScarceResources == nil {
		// GPU nodes are few and dear: a pod that needs no GPU should not take
		// the cpu and memory a GPU pod will need there.
		obj.ScarceResources = &ScarceResourcePolicy{Resources: []string{resourceGPU}}
	}
	if obj.ScarceResources.Weight == nil {
		obj.ScarceResources.Weight = ptr.To[int64](defaultScarceWeight)
	}
	if obj.Fit != nil {
		if obj.Fit.Strategy == "" {
			obj.Fit.Strategy = "LeastStranded"
		}
		if obj.Fit.Weight == nil {
			obj.Fit.Weight = ptr.To[int64](defaultFitWeight)
		}
	}
	if obj.GPUSharing == nil {
		obj.GPUSharing = &GPUSharingPolicy{}
	}
	setGPUSharingDefaults(obj.GPUSharing)
	if obj.Fragmentation == nil {
		obj.Fragmentation = &FragmentationPolicy{}
	}
	if obj.Fragmentation.Enabled == nil {
		// The score reads the device accounting: without it, off.
		obj.Fragmentation.Enabled = ptr.To(*obj.GPUSharing.Enabled)
	}
	for i := range obj.Resources {
		r := &obj.Resources[i]
		if r.Strategy == "" {
			r.Strategy = "LeastAllocated"
		}
		if r.Weight == nil {
			r.Weight = ptr.To[int64](1)
		}
	}
}

func setGPUSharingDefaults(g *GPUSharingPolicy) {
	if g.Enabled == nil {
		g.Enabled = ptr.To(true)
	}
	for _, f := range []struct {
		field *string
		def   string
	}{
		{&g.Resource, gpushare.Resource},
		{&g.ShareAnnotation, gpushare.ShareAnnotation},
		{&g.DeviceAnnotation, gpushare.DeviceAnnotation},
		{&g.ModelsAnnotation, gpushare.ModelsAnnotation},
		{&g.ModelLabel, gpushare.ModelLabel},
	} {
		if *f.field == "" {
			*f.field = f.def
		}
	}
}

// Topology keys of the ZoneSpread defaults.
const (
	zoneKey     = "topology.kubernetes.io/zone"
	hostnameKey = "kubernetes.io/hostname"
)

// SetDefaults_ZoneSpreadArgs fills in what the user left out: replicas
// spread over zones with a hard skew of 1, and over nodes inside a zone by
// score, the spreading most workloads want without writing
// topologySpreadConstraints.
func SetDefaults_ZoneSpreadArgs(obj *ZoneSpreadArgs) {
	if len(obj.Constraints) == 0 {
		obj.Constraints = []ZoneSpreadConstraint{
			{TopologyKey: zoneKey, MaxSkew: ptr.To[int32](1)},
			{TopologyKey: hostnameKey},
		}
	}
	if obj.GroupReplicaSetsByDeployment == nil {
		obj.GroupReplicaSetsByDeployment = ptr.To(true)
	}
	if obj.IgnorePodsWithSpreadConstraints == nil {
		obj.IgnorePodsWithSpreadConstraints = ptr.To(true)
	}
}

// SetDefaults_StatefulSetAwareArgs fills in what the user left out.
func SetDefaults_StatefulSetAwareArgs(obj *StatefulSetAwareArgs) {
	if obj.TopologyKey == "" {
		obj.TopologyKey = zoneKey
	}
	if obj.WhenQuorumAtRisk == "" {
		// A database on a small cluster still runs, and says it is at risk.
		obj.WhenQuorumAtRisk = "ScheduleAnyway"
	}
}

// SetDefaults_ExplainArgs fills in what the user left out. SamplePercent
// stays 0: nothing is explained unless a pod asks or an admin samples.
func SetDefaults_ExplainArgs(obj *ExplainArgs) {
	if obj.NextBestNodes == nil {
		obj.NextBestNodes = ptr.To[int32](3)
	}
}
