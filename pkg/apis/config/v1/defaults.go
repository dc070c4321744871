package v1

import (
	"k8s.io/utils/ptr"
)

// Names of the resources the defaults talk about.
const (
	resourceGPU = "nvidia.com/gpu"
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

// SetDefaults_ResourceAwareArgs fills in what the user left out.
func SetDefaults_ResourceAwareArgs(obj *ResourceAwareArgs) {
	if len(obj.Resources) == 0 {
		obj.Resources = defaultResources()
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
