package result

import v1 "k8s.io/api/core/v1"

// Quality is what one placement is worth (docs/quality.md).
type Quality struct {
	Spread       Spread       `json:"spread"`
	Availability Availability `json:"availability"`
	Packing      Packing      `json:"packing"`
	Outcomes     Outcomes     `json:"outcomes"`
}

// WorkloadSpread is how one workload's bound replicas lie.
type WorkloadSpread struct {
	Workload string         `json:"workload"` // Kind namespace/name
	Replicas int            `json:"replicas"` // bound
	Zones    map[string]int `json:"zones"`
	ZoneSkew int            `json:"zoneSkew"`
	NodeSkew int            `json:"nodeSkew"`
}

// Spread covers every workload with an owner.
type Spread struct {
	Workloads     []WorkloadSpread `json:"workloads"`
	WorstZoneSkew int              `json:"worstZoneSkew"`
	WorstNodeSkew int              `json:"worstNodeSkew"`
	// WorstZoneSkewWorkload names a workload with the worst zone skew.
	WorstZoneSkewWorkload string `json:"worstZoneSkewWorkload,omitempty"`
}

// Impact is what one failure leaves running, as fractions in [0, 1]
// (1 when there is no workload of the kind).
type Impact struct {
	Domain string `json:"domain"`
	// StatefulSetsWithQuorum: StatefulSets that keep ⌊R/2⌋+1 of their R
	// replicas bound outside the failed domain.
	StatefulSetsWithQuorum float64 `json:"statefulSetsWithQuorum"`
	// DeploymentsAvailable: Deployments that keep a bound replica outside it.
	DeploymentsAvailable float64 `json:"deploymentsAvailable"`
}

// Availability is the outcome of every single-zone and single-node failure.
type Availability struct {
	StatefulSets int      `json:"statefulSets"`
	Deployments  int      `json:"deployments"`
	Zones        []Impact `json:"zones"`
	// WorstZone and WorstNode are the failures that leave the fewest
	// StatefulSets with quorum (then the fewest Deployments available).
	WorstZone Impact `json:"worstZone"`
	WorstNode Impact `json:"worstNode"`
	// NodesBreakingQuorum counts the nodes whose loss alone costs some
	// StatefulSet its quorum.
	NodesBreakingQuorum int `json:"nodesBreakingQuorum"`
}

// ResourcePacking is one resource over the nodes that have it.
type ResourcePacking struct {
	Resource string `json:"resource"`
	// RequestedMean and RequestedStdDev: requested/allocatable per node.
	RequestedMean   float64 `json:"requestedMean"`
	RequestedStdDev float64 `json:"requestedStdDev"`
	// RequestedOfCapacity is requested over allocatable summed over the
	// nodes: weighted by capacity, the share of the cluster's GPUs (say)
	// that are taken.
	RequestedOfCapacity float64 `json:"requestedOfCapacity"`
	// Stranded is free capacity no pod can use, in the resource's units
	// (cores, bytes, devices); StrandedFraction is its share of the
	// cluster's allocatable. For cpu and memory: the resourceaware
	// definition (free capacity no node-shaped pod can use). For an
	// extended resource such as nvidia.com/gpu: the free devices on nodes
	// whose free cpu or memory is below the smallest cpu or memory request
	// of any pod of the run that asks for the resource.
	Stranded         float64 `json:"stranded,omitempty"`
	StrandedFraction float64 `json:"strandedFraction,omitempty"`
}

// NodeUsage is one node's requested/allocatable of cpu and memory.
type NodeUsage struct {
	Name   string  `json:"name"`
	Zone   string  `json:"zone"`
	CPU    float64 `json:"cpu"`
	Memory float64 `json:"memory"`
}

// Packing is how full the nodes are and how usable what is left.
type Packing struct {
	Nodes      int               `json:"nodes"`
	NodesInUse int               `json:"nodesInUse"`
	Resources  []ResourcePacking `json:"resources"`
	// PerNode is every node's usage, in zone then name order (the report's
	// heat map).
	PerNode []NodeUsage `json:"perNode"`
	// ReferencePodsFit is how many more pods of ReferencePod's requests fit
	// in what is free, node by node.
	ReferencePod     v1.ResourceList `json:"referencePod"`
	ReferencePodsFit int64           `json:"referencePodsFit"`
}

// ReasonCount is one of the scheduler's reasons and how many unschedulable
// pods it was given for.
type ReasonCount struct {
	Reason string `json:"reason"`
	Pods   int    `json:"pods"`
}

// Outcomes counts the pods alive at the end.
type Outcomes struct {
	Bound         int           `json:"bound"`
	Unschedulable int           `json:"unschedulable"`
	TopReasons    []ReasonCount `json:"topReasons,omitempty"`
}
