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

// FitStrategy says how the fit of a pod's whole request vector to a node's
// free vector turns into a score.
type FitStrategy string

const (
	// LeastStranded favours the node on which, once the pod is placed, the
	// least capacity is stranded (see the plugin's README for the definition).
	LeastStranded FitStrategy = "LeastStranded"
	// Alignment favours the node whose free resources are shaped most like the
	// pod's request: the cosine of the two vectors, each resource measured as
	// a fraction of the node's allocatable.
	Alignment FitStrategy = "Alignment"
)

// FitStrategies lists every fit strategy.
var FitStrategies = []FitStrategy{LeastStranded, Alignment}

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
	// strategy and weight, and optionally a ceiling the Filter enforces.
	Resources []ResourcePolicy

	// ScarceResources steers pods that do not request a scarce resource away
	// from the nodes that have it. Nil: no steering.
	ScarceResources *ScarceResourcePolicy

	// Fit, when set, adds a score for how well the pod's request vector fits
	// the node's free vector across all of Resources.
	Fit *FitPolicy

	// GPUSharing is the per-device accounting of a GPU resource that lets a
	// pod ask for a share of one device.
	GPUSharing *GPUSharingPolicy

	// Fragmentation scores a node by how much placing the pod there would
	// fragment the cluster's GPUs for the mix of pod shapes seen so far.
	Fragmentation *FragmentationPolicy
}

// GPUSharingPolicy is the per-device GPU accounting.
type GPUSharingPolicy struct {
	// Enabled turns the device accounting on.
	Enabled bool
	// Resource is the extended resource whose allocatable is a node's
	// device count.
	Resource string
	// ShareAnnotation is the pod annotation asking for a share of one
	// device, in thousandths (1 to 999).
	ShareAnnotation string
	// DeviceAnnotation is the pod annotation PreBind writes the chosen
	// device indices to.
	DeviceAnnotation string
	// ModelsAnnotation is the pod annotation listing the GPU models it
	// accepts, '|'-separated.
	ModelsAnnotation string
	// ModelLabel is the node label holding the node's GPU model.
	ModelLabel string
}

// FragmentationPolicy is the fragmentation score.
type FragmentationPolicy struct {
	// Enabled turns the score on; it needs the GPU device accounting.
	Enabled bool
}

// ScarceResourcePolicy keeps scarce (extended) resources for the pods that
// need them, by scoring, never by filtering.
type ScarceResourcePolicy struct {
	// Resources are names of extended resources, such as nvidia.com/gpu.
	Resources []string
	// Weight of the steering in the node's score, 1 to 100.
	Weight int64
}

// FitPolicy is the cross-resource fit score.
type FitPolicy struct {
	// Strategy: LeastStranded or Alignment.
	Strategy FitStrategy
	// Weight of the fit in the node's score, 1 to 100.
	Weight int64
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
	// MaxRequestedPercent, when set, is the headroom guard: the Filter
	// rejects a node on which, with the pod placed, more than this percentage
	// of the resource's allocatable would be requested. 90 keeps 10% free.
	MaxRequestedPercent *int32
}

// UtilizationShapePoint is one point of a RequestedToCapacityRatio shape.
type UtilizationShapePoint struct {
	// Utilization in percent, 0 to 100.
	Utilization int32
	// Score at that utilisation, 0 to 10.
	Score int32
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ZoneSpreadArgs configures the ZoneSpread plugin.
type ZoneSpreadArgs struct {
	metav1.TypeMeta

	// Constraints are the topology keys replicas are spread over, widest
	// first. The Score prefers the least-loaded domain of the first key and,
	// inside it, of the next.
	Constraints []ZoneSpreadConstraint

	// GroupReplicaSetsByDeployment scores the pods of every ReplicaSet of a
	// Deployment together, so that a rolling update's old and new
	// ReplicaSets are spread as one workload; the maxSkew bound always
	// applies to the pod's own ReplicaSet.
	GroupReplicaSetsByDeployment bool

	// IgnorePodsWithSpreadConstraints leaves a pod that carries its own
	// topologySpreadConstraints to PodTopologySpread.
	IgnorePodsWithSpreadConstraints bool
}

// MaxZoneSpreadKeys bounds the topology keys of ZoneSpread: region, zone and
// node are what clusters have, and the score weighs keys lexicographically
// in an int64.
const MaxZoneSpreadKeys = 3

// ZoneSpreadConstraint is one topology key and how hard replicas are spread over it.
type ZoneSpreadConstraint struct {
	// TopologyKey is a node label: nodes with the same value form a domain.
	TopologyKey string
	// MaxSkew, when set, is the hard bound the Filter enforces: placing the
	// pod must leave (replicas in its domain) − (fewest replicas in any
	// domain that can take the pod) ≤ MaxSkew. Unset: scored only.
	MaxSkew *int32
}

// QuorumPolicy says what StatefulSetAware does when the domains that can take
// a replica are too few for its set to survive the loss of one.
type QuorumPolicy string

const (
	// DoNotSchedule leaves the pod pending, with the reason on it.
	DoNotSchedule QuorumPolicy = "DoNotSchedule"
	// ScheduleAnyway places the pod where the set has the fewest replicas,
	// and records a warning event on it.
	ScheduleAnyway QuorumPolicy = "ScheduleAnyway"
)

// QuorumPolicies lists every policy.
var QuorumPolicies = []QuorumPolicy{DoNotSchedule, ScheduleAnyway}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSetAwareArgs configures the StatefulSetAware plugin.
type StatefulSetAwareArgs struct {
	metav1.TypeMeta

	// TopologyKey is the node label whose domains (zones) must each be
	// losable without losing a set's quorum.
	TopologyKey string
	// WhenQuorumAtRisk applies when the domains that can take a replica are
	// too few for that.
	WhenQuorumAtRisk QuorumPolicy
	// PrimarySelector picks a set's primary among its pods by label; nil
	// means the first ordinal (spec.ordinals.start).
	PrimarySelector *metav1.LabelSelector
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExplainArgs configures the Explain plugin.
type ExplainArgs struct {
	metav1.TypeMeta

	// SamplePercent is the share of pods explained without asking, 0 to
	// 100, chosen by a hash of the pod's namespace and name. Pods ask with
	// the annotation placer.dev/explain: "true" and decline with "false".
	SamplePercent float64
	// NextBestNodes is how many nodes after the chosen one an explanation
	// lists with their scores.
	NextBestNodes int32
}
