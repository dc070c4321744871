package config

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScoringStrategy says how one resource's utilisation turns into a node score.
type ScoringStrategy string

const (
	// LeastAllocated favours nodes with the most of the resource left: it spreads.
	LeastAllocated ScoringStrategy = "LeastAllocated"
	// MostAllocated favours nodes with the least of the resource left: it packs.
	MostAllocated ScoringStrategy = "MostAllocated"
	// RequestedToCapacityRatio maps utilisation to a score through a
	// piecewise-linear shape given by the user.
	RequestedToCapacityRatio ScoringStrategy = "RequestedToCapacityRatio"
)

// ScoringStrategies lists every strategy, in the order documentation shows them.
var ScoringStrategies = []ScoringStrategy{LeastAllocated, MostAllocated, RequestedToCapacityRatio}

// Bounds of the numbers in the arguments. They match upstream's
// NodeResourcesFit so that a weight or shape means the same in both.
const (
	MinResourceWeight = 1
	MaxResourceWeight = 100
	MaxUtilization    = 100
	MaxShapeScore     = 10
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ResourceAwareArgs configures the ResourceAware plugin.
type ResourceAwareArgs struct {
	metav1.TypeMeta

	// Resources lists the resources the plugin scores, each with its own
	// strategy and weight. A node's score is the weighted mean of the scores of
	// the resources it has.
	Resources []ResourcePolicy
}

// ResourcePolicy is how ResourceAware treats one resource.
type ResourcePolicy struct {
	// Name of the resource: cpu, memory, ephemeral-storage, pods, or an
	// extended resource such as nvidia.com/gpu.
	Name string
	// Strategy turns the resource's utilisation on a node into a score.
	Strategy ScoringStrategy
	// Weight of this resource in the node's score, 1 to 100.
	Weight int64
	// Shape of the RequestedToCapacityRatio strategy; empty for the others.
	Shape []UtilizationShapePoint
}

// UtilizationShapePoint is one point of a RequestedToCapacityRatio shape.
type UtilizationShapePoint struct {
	// Utilization in percent, 0 to 100.
	Utilization int32
	// Score at that utilisation, 0 to 10.
	Score int32
}
