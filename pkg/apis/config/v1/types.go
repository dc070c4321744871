package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScoringStrategy says how one resource's utilisation turns into a node
// score: LeastAllocated, MostAllocated or RequestedToCapacityRatio.
type ScoringStrategy string

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ResourceAwareArgs configures the ResourceAware plugin.
type ResourceAwareArgs struct {
	metav1.TypeMeta `json:",inline"`

	// Resources lists the resources the plugin scores, each with its own
	// strategy and weight. Defaults to packing nvidia.com/gpu and spreading
	// cpu and memory.
	// +listType=map
	// +listMapKey=name
	Resources []ResourcePolicy `json:"resources,omitempty"`
}

// ResourcePolicy is how ResourceAware treats one resource.
type ResourcePolicy struct {
	// Name of the resource: cpu, memory, ephemeral-storage, pods, or an
	// extended resource such as nvidia.com/gpu.
	Name string `json:"name"`
	// Strategy turns the resource's utilisation on a node into a score.
	// Defaults to LeastAllocated.
	Strategy ScoringStrategy `json:"strategy,omitempty"`
	// Weight of this resource in the node's score, 1 to 100. Defaults to 1.
	Weight *int64 `json:"weight,omitempty"`
	// Shape of the RequestedToCapacityRatio strategy; required for it,
	// rejected for the others.
	// +listType=atomic
	Shape []UtilizationShapePoint `json:"shape,omitempty"`
}

// UtilizationShapePoint is one point of a RequestedToCapacityRatio shape.
type UtilizationShapePoint struct {
	// Utilization in percent, 0 to 100.
	Utilization int32 `json:"utilization"`
	// Score at that utilisation, 0 to 10.
	Score int32 `json:"score"`
}
