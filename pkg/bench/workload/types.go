// Package workload defines the benchmark harness's workload files: a
// synthetic cluster (node groups over zones), the workloads to run on it
// (Deployments, StatefulSets, Jobs, bare pods) and the ops that drive a run.
// docs/workloads.md documents every field; examples/bench holds examples.
package workload

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// APIVersion and Kind head every workload file.
const (
	APIVersion = "bench.placer.dev/v1alpha1"
	Kind       = "Workload"
)

// File is a parsed workload file.
type File struct {
	APIVersion  string `json:"apiVersion"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Seed makes generation deterministic: the same file and seed give the
	// same objects.
	Seed int64 `json:"seed"`
	// Params are named integers that counts elsewhere refer to as "$name";
	// the command line overrides them (--set name=value), so one file serves
	// several sizes.
	Params    map[string]int `json:"params,omitempty"`
	Cluster   Cluster        `json:"cluster"`
	Workloads []Workload     `json:"workloads"`
	Ops       []Op           `json:"ops"`
	// Quality tunes the placement-quality figures.
	Quality *Quality `json:"quality,omitempty"`

	// setByFlag names the params the command line's --set gave, so that an
	// error can say where a bad count came from.
	setByFlag map[string]bool
}

// Quality tunes the placement-quality figures (docs/quality.md).
type Quality struct {
	// ReferencePod is the shape "reference pods that still fit" counts;
	// default 1 cpu and 2Gi of memory.
	ReferencePod v1.ResourceList `json:"referencePod,omitempty"`
}

// Cluster is the synthetic cluster.
type Cluster struct {
	// Snapshot, when set, is a cluster snapshot file (placer-bench
	// snapshot, or kubectl get ... -o yaml; relative to the workload file)
	// the run starts from: its nodes and bound pods as they are, its
	// pending pods scheduled by each profile. Zones and node groups are
	// then optional and add to it.
	Snapshot string `json:"snapshot,omitempty"`
	// Zones are the zone names; in the file either a list of names or a
	// count (3 means zone-a, zone-b, zone-c).
	Zones Zones `json:"zones"`
	// NodeGroups are sets of nodes of one shape.
	NodeGroups []NodeGroup `json:"nodeGroups"`
}

// NodeGroup is Count nodes of one shape, spread round robin over Zones.
type NodeGroup struct {
	Name  string `json:"name"`
	Count Count  `json:"count"`
	// Zones restricts the group to some of the cluster's zones; empty means all.
	Zones []string `json:"zones,omitempty"`
	// Capacity is each node's allocatable: cpu, memory, pods, extended resources.
	Capacity v1.ResourceList   `json:"capacity"`
	Labels   map[string]string `json:"labels,omitempty"`
	Taints   []v1.Taint        `json:"taints,omitempty"`
	// Occupied is what pods of other schedulers already request on the
	// group's nodes when the run starts: a production cluster is never
	// empty, and how full its zones are decides where replicas can go.
	Occupied *Occupied `json:"occupied,omitempty"`
}

// Occupied puts pods of another scheduler (OccupiedSchedulerName), already
// bound, on every node of a group before the run's own pods.
type Occupied struct {
	// Percent of each node's cpu and memory the pods request, by zone:
	// every zone of the group needs one, so that an uneven cluster is
	// written down rather than defaulted.
	Percent map[string]int `json:"percent"`
	// Jitter spreads the nodes of a zone around its percent: each node
	// draws, with the file's seed, uniformly within ±Jitter points.
	Jitter int `json:"jitter,omitempty"`
	// Pods per node that hold it, of equal size (default 1).
	Pods int `json:"pods,omitempty"`
}

// OccupiedSchedulerName is the scheduler name of Occupied's pods: bound by
// the harness at creation, as pods of another scheduler are found.
const OccupiedSchedulerName = "other-scheduler"

// OccupiedNamespace holds Occupied's pods.
const OccupiedNamespace = "occupied"

// Workload kinds.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
	KindJob         = "Job"
	KindPod         = "Pod"
)

// Kinds lists the workload kinds.
var Kinds = []string{KindDeployment, KindStatefulSet, KindJob, KindPod}

// Workload is Count workloads of one kind, each with Replicas pods shaped by Pod.
type Workload struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Namespace of the objects; defaults to "bench".
	Namespace string `json:"namespace,omitempty"`
	// Count of such workloads (web-0, web-1, ...); defaults to 1.
	Count Count `json:"count,omitempty"`
	// Replicas per workload: pods of a Deployment, StatefulSet or Job
	// (parallelism); for kind Pod, the number of bare pods. Defaults to 1.
	Replicas Count    `json:"replicas,omitempty"`
	Pod      PodShape `json:"pod"`
	// VolumeClaims are StatefulSet volume claim templates: one claim per
	// replica each.
	VolumeClaims []VolumeClaim `json:"volumeClaims,omitempty"`
}

// PodShape is what each pod of a workload asks for.
type PodShape struct {
	Requests v1.ResourceList `json:"requests,omitempty"`
	// Limits default to the requests of extended resources (which must match).
	Limits                    v1.ResourceList               `json:"limits,omitempty"`
	Priority                  *int32                        `json:"priority,omitempty"`
	PriorityClassName         string                        `json:"priorityClassName,omitempty"`
	Labels                    map[string]string             `json:"labels,omitempty"`
	Annotations               map[string]string             `json:"annotations,omitempty"`
	NodeSelector              map[string]string             `json:"nodeSelector,omitempty"`
	Affinity                  *v1.Affinity                  `json:"affinity,omitempty"`
	Tolerations               []v1.Toleration               `json:"tolerations,omitempty"`
	TopologySpreadConstraints []v1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// SchedulerName pins the pods to one scheduler; empty means the profile
	// under test, which is what side-by-side runs want.
	SchedulerName string `json:"schedulerName,omitempty"`
}

// VolumeClaim is a StatefulSet volume claim template.
type VolumeClaim struct {
	Name             string            `json:"name"`
	StorageClassName string            `json:"storageClassName"`
	Size             resource.Quantity `json:"size"`
}

// Op codes, in the order a run usually uses them.
const (
	OpCreateNodes     = "createNodes"
	OpCreateWorkloads = "createWorkloads"
	OpBarrier         = "barrier"
	OpScale           = "scale"
	OpChurn           = "churn"
	OpDelete          = "delete"
	OpSleep           = "sleep"
	OpRollingUpdate   = "rollingUpdate"
	// Failure drills and packing: the harness plays the node lifecycle and
	// workload controllers (docs/quality.md).
	OpZoneOutage    = "zoneOutage"
	OpNodeFailure   = "nodeFailure"
	OpZoneRecovery  = "zoneRecovery"
	OpFillToFailure = "fillToFailure"
)

// OpCodes lists every op.
var OpCodes = []string{OpCreateNodes, OpCreateWorkloads, OpBarrier, OpScale, OpChurn, OpRollingUpdate, OpDelete, OpSleep,
	OpZoneOutage, OpNodeFailure, OpZoneRecovery, OpFillToFailure}

// Outage modes: how lost nodes go.
const (
	OutageNotReady = "NotReady" // Ready=False and tainted unreachable, as the node lifecycle controller marks them
	OutageRemove   = "Remove"   // deleted
)

// FillShape is one pod shape of fillToFailure's mix.
type FillShape struct {
	Name     string          `json:"name"`
	Requests v1.ResourceList `json:"requests"`
}

// Barrier conditions.
const (
	UntilScheduled = "Scheduled" // every pod bound
	UntilAttempted = "Attempted" // every pod bound or found unschedulable at least once
)

// Op is one step of a run. Op names the code; the other fields are that
// code's arguments (validation rejects arguments another code would take).
type Op struct {
	Op string `json:"op"`
	// createNodes: the node groups to create; empty means all.
	Groups []string `json:"groups,omitempty"`
	// createWorkloads, delete: the workloads; empty means all.
	Workloads []string `json:"workloads,omitempty"`
	// createWorkloads: pods per second; 0 (the default) creates all at once.
	Rate Count `json:"rate,omitempty"`
	// createWorkloads: measure these pods. When any op measures, throughput
	// and latency cover only the measured pods (as scheduler_perf's
	// collectMetrics); when none does, they cover every pod.
	Measure bool `json:"measure,omitempty"`
	// barrier: Scheduled (default) or Attempted.
	Until string `json:"until,omitempty"`
	// barrier: give up after this long (default 10m); the run reports it.
	Timeout Duration `json:"timeout,omitempty"`
	// scale, churn, rollingUpdate: the workload.
	Workload string `json:"workload,omitempty"`
	// scale: the new replica count of every workload of that name.
	Replicas Count `json:"replicas,omitempty"`
	// churn: pods deleted and recreated per round, how many rounds, and the
	// time between rounds. rollingUpdate: pods of each instance replaced at
	// once (its maxUnavailable); the next batch waits until the last one's
	// replacements are bound or found unschedulable, for at most timeout.
	Pods     Count    `json:"pods,omitempty"`
	Rounds   Count    `json:"rounds,omitempty"`
	Interval Duration `json:"interval,omitempty"`
	// sleep: how long.
	Duration Duration `json:"duration,omitempty"`
	// zoneOutage, zoneRecovery: the zone.
	Zone string `json:"zone,omitempty"`
	// zoneOutage, nodeFailure: NotReady (default) or Remove.
	Mode string `json:"mode,omitempty"`
	// nodeFailure: how many nodes, picked with the seed among those holding pods.
	Nodes Count `json:"nodes,omitempty"`
	// fillToFailure: the shapes added in turn, one pod at a time, until one
	// cannot be placed; at most maxPods (default 100000).
	Shapes  []FillShape `json:"shapes,omitempty"`
	MaxPods Count       `json:"maxPods,omitempty"`
}

// Count is an integer written either as a number or as "$param".
type Count struct {
	Value int
	Param string // without the "$"; empty for a literal
}

// N returns a literal count.
func N(v int) Count { return Count{Value: v} }

// UnmarshalJSON accepts 12 or "$nodes".
func (c *Count) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*c = Count{Value: n}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil || !strings.HasPrefix(s, "$") || len(s) < 2 {
		return fmt.Errorf("want an integer or \"$param\", got %s", b)
	}
	*c = Count{Param: s[1:]}
	return nil
}

// MarshalJSON writes the form it was read in.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Param != "" {
		return json.Marshal("$" + c.Param)
	}
	return json.Marshal(c.Value)
}

// Zones are zone names, written as a list or a count.
type Zones []string

// UnmarshalJSON accepts ["us-east-1a", ...] or 3 (zone-a, zone-b, zone-c).
func (z *Zones) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 1 || n > 26 {
			return fmt.Errorf("a zone count must be 1 to 26, got %d", n)
		}
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("zone-%c", 'a'+i)
		}
		*z = names
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("want a list of zone names or a count, got %s", b)
	}
	*z = names
	return nil
}

// Duration is a time.Duration written as "30s", "5m".
type Duration struct{ time.Duration }

// UnmarshalJSON parses a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"30s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"30s\", got %q", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }
