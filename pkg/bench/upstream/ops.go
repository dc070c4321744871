// Package upstream runs upstream scheduler_perf's test cases
// (k8s.io/kubernetes/test/integration/scheduler_perf, its
// performance-config.yaml files and their templates) unchanged, on
// placer-bench's backends and with its profiles, and reports them through
// the runner's Result like any other run. docs/upstream.md lists the ops
// and fields it supports and how it differs from scheduler_perf's harness.
package upstream

import (
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Op codes of scheduler_perf. Those placer-bench runs are in Supported.
const (
	OpCreateNodes            = "createNodes"
	OpCreateNamespaces       = "createNamespaces"
	OpCreatePods             = "createPods"
	OpCreatePodSets          = "createPodSets"
	OpDeletePods             = "deletePods"
	OpCreateAny              = "createAny"
	OpChurn                  = "churn"
	OpBarrier                = "barrier"
	OpSleep                  = "sleep"
	OpStartCollectingMetrics = "startCollectingMetrics"
	OpStopCollectingMetrics  = "stopCollectingMetrics"
)

// Supported lists the ops placer-bench runs.
var Supported = []string{OpCreateNodes, OpCreateNamespaces, OpCreatePods, OpCreatePodSets, OpDeletePods,
	OpCreateAny, OpChurn, OpBarrier, OpSleep, OpStartCollectingMetrics, OpStopCollectingMetrics}

// unsupported are scheduler_perf's other ops: Dynamic Resource Allocation
// drivers and claims, and updates of arbitrary objects. A file using them
// loads; a case using them is refused when selected.
var unsupported = map[string]bool{
	"allocResourceClaims": true, "createResourceClaims": true, "createResourceDriver": true, "updateAny": true,
}

// Op is one step of a workload template. Only the fields of its Code are
// set; counts and durations may be "$param" references until Plan resolves
// them.
type Op struct {
	Code string
	Line int
	// Unsupported is set for an op placer-bench cannot run.
	Unsupported bool

	CreateNodes      *CreateNodesOp
	CreateNamespaces *CreateNamespacesOp
	CreatePods       *CreatePodsOp
	CreatePodSets    *CreatePodSetsOp
	DeletePods       *DeletePodsOp
	CreateAny        *CreateAnyOp
	Churn            *ChurnOp
	Barrier          *BarrierOp
	Sleep            *SleepOp
	StartCollecting  *StartCollectingMetricsOp
}

// The op structs mirror scheduler_perf's, field for field, so that its files
// decode the same way: JSON rules, field names matched case-insensitively,
// unknown fields refused.

// CreateNodesOp creates Count nodes from a template (default: 4 cpu, 32Gi,
// 110 pods, Ready), with at most one strategy.
type CreateNodesOp struct {
	Opcode                   string
	Count                    int
	CountParam               string
	NodeTemplatePath         *string
	NodeAllocatableStrategy  *NodeAllocatableStrategy
	LabelNodePrepareStrategy *LabelNodePrepareStrategy
	UniqueNodeLabelStrategy  *UniqueNodeLabelStrategy
}

// NodeAllocatableStrategy sets allocatable resources on every node and
// creates its CSINode with per-driver volume limits.
type NodeAllocatableStrategy struct {
	NodeAllocatable    map[string]string
	CsiNodeAllocatable map[string]*storagev1.VolumeNodeResources
	MigratedPlugins    []string
}

// LabelNodePrepareStrategy labels nodes with LabelKey, its values taken in
// turn.
type LabelNodePrepareStrategy struct {
	LabelKey    string
	LabelValues []string
}

// UniqueNodeLabelStrategy gives each node a label LabelKey of its own.
type UniqueNodeLabelStrategy struct {
	LabelKey string
}

// CreateNamespacesOp creates <Prefix>-0 … <Prefix>-<Count-1>.
type CreateNamespacesOp struct {
	Opcode                string
	Prefix                string
	Count                 int
	CountParam            string
	NamespaceTemplatePath *string
}

// CreatePodsOp creates Count pods, optionally each with a bound volume and
// claim, and by default waits until they are scheduled.
type CreatePodsOp struct {
	Opcode                            string
	Count                             int
	CountParam                        string
	SteadyState                       bool
	Duration                          metav1.Duration
	DurationParam                     string
	CollectMetrics                    bool
	Namespace                         *string
	PodTemplatePath                   *string
	SkipWaitToCompletion              bool
	PersistentVolumeTemplatePath      *string
	PersistentVolumeClaimTemplatePath *string
}

// CreatePodSetsOp is Count createPods ops, one per namespace
// <NamespacePrefix>-<i>.
type CreatePodSetsOp struct {
	Opcode          string
	Count           int
	CountParam      string
	NamespacePrefix string
	CreatePodsOp    CreatePodsOp
}

// DeletePodsOp deletes the pods of a namespace matching a selector.
type DeletePodsOp struct {
	Opcode               string
	Namespace            string
	LabelSelector        map[string]string
	SkipWaitToCompletion bool
	DeletePodsPerSecond  int
}

// CreateAnyOp creates Count objects from a template.
type CreateAnyOp struct {
	Opcode       string
	Namespace    string
	TemplatePath string
	Count        *int
	CountParam   string
}

// ChurnOp creates (and in recreate mode deletes) objects from templates in
// the background, every IntervalMilliseconds, for the rest of the workload.
type ChurnOp struct {
	Opcode               string
	Mode                 string
	Number               int
	IntervalMilliseconds int64
	Namespace            *string
	TemplatePaths        []string
}

// BarrierOp waits for the pods created so far in Namespaces (all when
// empty) to be scheduled, or attempted.
type BarrierOp struct {
	Opcode           string
	Namespaces       []string
	LabelSelector    map[string]string
	StageRequirement string
}

// SleepOp waits.
type SleepOp struct {
	Opcode        string
	Duration      metav1.Duration
	DurationParam string
}

// StartCollectingMetricsOp opens a measurement window over Namespaces;
// stopCollectingMetrics closes it.
type StartCollectingMetricsOp struct {
	Opcode        string
	Name          string
	Namespaces    []string
	LabelSelector map[string]string
}

// stopCollectingMetricsOp has no arguments but its code.
type stopCollectingMetricsOp struct {
	Opcode string
}

// Churn modes.
const (
	ChurnCreate   = "create"
	ChurnRecreate = "recreate"
)

// Barrier stages.
const (
	StageScheduled = "Scheduled"
	StageAttempted = "Attempted"
)
