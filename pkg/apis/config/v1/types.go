package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScoringStrategy says how one resource's utilisation turns into a node
// score: LeastAllocated, MostAllocated or RequestedToCapacityRatio.
type ScoringStrategy string

// FitStrategy says how the fit of a pod's request vector to a node's free
// vector turns into a score: LeastStranded or Alignment.
type FitStrategy string

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

	// ScarceResources steers pods that do not request a scarce resource away
	// from the nodes that have it (they stay allowed there). Defaults to
	// nvidia.com/gpu with weight 5; set resources to [] to turn it off.
	ScarceResources *ScarceResourcePolicy `json:"scarceResources,omitempty"`

	// Fit adds a score for how well the pod's whole request vector fits the
	// node's free vector across the listed resources. Off when unset.
	Fit *FitPolicy `json:"fit,omitempty"`

	// GPUSharing accounts a GPU resource per device, so that a pod can ask
	// for a share of one device with an annotation instead of a whole GPU.
	// On by default, with the keys of package gpushare.
	GPUSharing *GPUSharingPolicy `json:"gpuSharing,omitempty"`

	// Fragmentation orders nodes by how much placing the pod there would
	// fragment the cluster's GPUs for the mix of pod shapes seen so far,
	// whenever that differs between the nodes. On by default with the GPU
	// device accounting.
	Fragmentation *FragmentationPolicy `json:"fragmentation,omitempty"`
}

// GPUSharingPolicy is the per-device GPU accounting.
type GPUSharingPolicy struct {
	// Enabled turns the device accounting on. Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// Resource is the extended resource whose allocatable is a node's
	// device count. Defaults to nvidia.com/gpu.
	Resource string `json:"resource,omitempty"`
	// ShareAnnotation is the pod annotation asking for a share of one
	// device, in thousandths (1 to 999). Defaults to placer.dev/gpu-milli.
	ShareAnnotation string `json:"shareAnnotation,omitempty"`
	// DeviceAnnotation is the pod annotation PreBind writes the chosen
	// device indices to. Defaults to placer.dev/gpu-device.
	DeviceAnnotation string `json:"deviceAnnotation,omitempty"`
	// ModelsAnnotation is the pod annotation listing the GPU models it
	// accepts, '|'-separated. Defaults to placer.dev/gpu-models.
	ModelsAnnotation string `json:"modelsAnnotation,omitempty"`
	// ModelLabel is the node label holding the node's GPU model. Defaults
	// to nvidia.com/gpu.product.
	ModelLabel string `json:"modelLabel,omitempty"`
}

// FragmentationPolicy is the fragmentation score.
type FragmentationPolicy struct {
	// Enabled turns the score on. Defaults to gpuSharing.enabled, which it
	// needs.
	Enabled *bool `json:"enabled,omitempty"`
}

// ScarceResourcePolicy keeps scarce (extended) resources for the pods that need them.
type ScarceResourcePolicy struct {
	// Resources are names of extended resources, such as nvidia.com/gpu.
	// +listType=set
	Resources []string `json:"resources"`
	// Weight of the steering in the node's score, 1 to 100. Defaults to 5.
	Weight *int64 `json:"weight,omitempty"`
}

// FitPolicy is the cross-resource fit score.
type FitPolicy struct {
	// Strategy: LeastStranded (the default) or Alignment.
	Strategy FitStrategy `json:"strategy,omitempty"`
	// Weight of the fit in the node's score, 1 to 100. Defaults to 1.
	Weight *int64 `json:"weight,omitempty"`
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
	// MaxRequestedPercent is the headroom guard: the Filter rejects a node
	// on which, with the pod placed, more than this percentage of the
	// resource's allocatable would be requested; 1 to 100, 90 keeps 10%
	// free. No ceiling when unset.
	MaxRequestedPercent *int32 `json:"maxRequestedPercent,omitempty"`
}

// UtilizationShapePoint is one point of a RequestedToCapacityRatio shape.
type UtilizationShapePoint struct {
	// Utilization in percent, 0 to 100.
	Utilization int32 `json:"utilization"`
	// Score at that utilisation, 0 to 10.
	Score int32 `json:"score"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ZoneSpreadArgs configures the ZoneSpread plugin.
type ZoneSpreadArgs struct {
	metav1.TypeMeta `json:",inline"`

	// Constraints are the topology keys replicas are spread over, widest
	// first. Defaults to topology.kubernetes.io/zone with maxSkew 1, then
	// kubernetes.io/hostname scored only.
	// +listType=map
	// +listMapKey=topologyKey
	Constraints []ZoneSpreadConstraint `json:"constraints,omitempty"`

	// GroupReplicaSetsByDeployment scores the pods of every ReplicaSet of a
	// Deployment together (a rolling update's old and new ReplicaSets are
	// spread as one workload); the maxSkew bound always applies to the pod's
	// own ReplicaSet. Defaults to true.
	GroupReplicaSetsByDeployment *bool `json:"groupReplicaSetsByDeployment,omitempty"`

	// IgnorePodsWithSpreadConstraints leaves a pod that carries its own
	// topologySpreadConstraints to PodTopologySpread. Defaults to true.
	IgnorePodsWithSpreadConstraints *bool `json:"ignorePodsWithSpreadConstraints,omitempty"`
}

// ZoneSpreadConstraint is one topology key and how hard replicas are spread over it.
type ZoneSpreadConstraint struct {
	// TopologyKey is a node label: nodes with the same value form a domain.
	TopologyKey string `json:"topologyKey"`
	// MaxSkew, when set (1 or more), is the hard bound the Filter enforces.
	// Unset: the key is only scored.
	MaxSkew *int32 `json:"maxSkew,omitempty"`
}

// QuorumPolicy is DoNotSchedule or ScheduleAnyway.
type QuorumPolicy string

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// StatefulSetAwareArgs configures the StatefulSetAware plugin.
type StatefulSetAwareArgs struct {
	metav1.TypeMeta `json:",inline"`

	// TopologyKey is the node label whose domains (zones) must each be
	// losable without losing a set's quorum. Defaults to topology.kubernetes.io/zone.
	TopologyKey string `json:"topologyKey,omitempty"`
	// WhenQuorumAtRisk applies when the domains that can take a replica
	// (not cordoned, full, tainted or excluded by its affinity) are too few
	// for the set to survive the loss of one: DoNotSchedule, or
	// ScheduleAnyway (the default) with the fewest replicas per domain, one
	// per node, and a warning event on the pod.
	WhenQuorumAtRisk QuorumPolicy `json:"whenQuorumAtRisk,omitempty"`
	// PrimarySelector picks a set's primary among its pods by label (for
	// example role=primary, kept up to date by the database's operator).
	// Unset: the first ordinal (spec.ordinals.start, 0 by default) is the primary.
	PrimarySelector *metav1.LabelSelector `json:"primarySelector,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExplainArgs configures the Explain plugin.
type ExplainArgs struct {
	metav1.TypeMeta `json:",inline"`

	// SamplePercent is the share of pods explained without asking, 0 (the
	// default: only pods that ask) to 100, chosen by a hash of the pod's
	// namespace and name, so a pod's fate does not change between retries
	// or runs. Pods ask with the annotation placer.dev/explain: "true" and
	// decline with "false".
	SamplePercent float64 `json:"samplePercent,omitempty"`
	// NextBestNodes is how many nodes after the chosen one an explanation
	// lists with their scores, 0 to 10. Defaults to 3.
	NextBestNodes *int32 `json:"nextBestNodes,omitempty"`
}
