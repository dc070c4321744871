// Package result holds what a benchmark run measured, as plain data: the
// per-run Result with its placements, phases, drills and fills, the
// quality figures, and the comparison of repeated runs. The report, the
// quality computation, the CLI and the test kit share it; it links no API
// server.
package result

import (
	"time"

	"github.com/placer-dev/placer/pkg/bench/stats"
)

// PhaseResult is one op's wall time.
type PhaseResult struct {
	Op       string        `json:"op"`
	Index    int           `json:"index"`
	Duration time.Duration `json:"duration"`
	// TimedOut is set on a barrier that gave up.
	TimedOut bool `json:"timedOut,omitempty"`
}

// Result is what one profile's run measured.
type Result struct {
	Profile       string `json:"profile"`
	Backend       string `json:"backend"`
	Pods          int    `json:"pods"`
	Scheduled     int    `json:"scheduled"`
	Unschedulable int    `json:"unschedulable"`
	// Preempted counts the run's pods the scheduler evicted to make room
	// for higher-priority pods (marked with the DisruptionTarget condition,
	// reason PreemptionByScheduler); PreemptionAttempts is how often it tried.
	Preempted          int           `json:"preempted"`
	PreemptionAttempts int           `json:"preemptionAttempts"`
	Throughput         stats.Summary `json:"throughput"`
	// Latency is creation to bound, in seconds, of the measured pods that
	// were scheduled. Throughput too covers the measured pods only.
	Latency stats.Summary `json:"latencySeconds"`
	// ThroughputTimeline is pods bound in each 1 s window since the first
	// measured pod was created; LatencyCDF the latency (seconds) at each
	// percentile 0, 1, ..., 100.
	ThroughputTimeline []float64     `json:"throughputTimeline,omitempty"`
	LatencyCDF         []float64     `json:"latencyCDF,omitempty"`
	Phases             []PhaseResult `json:"phases"`
	// Scheduler holds the scheduler's own histograms for the run.
	Scheduler []HistogramSummary `json:"scheduler"`
	// Quality is what the final placement is worth (docs/quality.md).
	Quality Quality `json:"quality"`
	// Drills and Fills are the results of failure drills and fillToFailure.
	Drills []DrillResult `json:"drills,omitempty"`
	Fills  []FillResult  `json:"fills,omitempty"`
	// Trace is set on a trace replay (placer-bench trace).
	Trace    *TraceResult  `json:"trace,omitempty"`
	Wall     time.Duration `json:"wall"`
	PeakHeap uint64        `json:"peakHeapBytes"`
	PeakRSS  uint64        `json:"peakRSSBytes"`
	// PID is the process the run was made in: every run has its own, so
	// that no run's memory or goroutines show in another's figures.
	PID int `json:"pid,omitempty"`
	// placements: every pod the run created and where it went, sorted by
	// namespace and name; placements-<profile>.jsonl, not report.json,
	// carries them.
	placements []Placement
}

// Placements lists every pod the run created and where it went, sorted by
// namespace and name, deleted pods included (marked).
func (res *Result) Placements() []Placement { return res.placements }

// SetPlacements records the run's placements (the runner does, and a parent
// process for a Result it decoded from a run's own process).
func (res *Result) SetPlacements(p []Placement) { res.placements = p }

// DrillResult is what one failure drill (or recovery) did to the run.
type DrillResult struct {
	Op    string `json:"op"`
	Index int    `json:"index"`
	// Domain is the zone, or "<n> nodes" for nodeFailure.
	Domain    string `json:"domain"`
	Mode      string `json:"mode,omitempty"`
	NodesLost int    `json:"nodesLost"`
	// PodsDisplaced were on lost nodes: deleted and, if a controller owns
	// them, recreated (StatefulSet replicas with their identity and claims).
	PodsDisplaced int `json:"podsDisplaced"`
	// PodsLost had no controller to recreate them (bare pods).
	PodsLost int `json:"podsLost,omitempty"`
	// Rebound of the recreated pods (for zoneRecovery: of the pods pending
	// when it began) were bound again; Unplaced were not, by the end of
	// the op.
	Rebound  int `json:"rebound"`
	Unplaced int `json:"unplaced"`
	// ReboundSeconds: from the failure (or recovery) to each pod's bind.
	ReboundSeconds stats.Summary `json:"reboundSeconds"`
	// During the outage, before any pod was replaced: what kept running.
	DuringOutage *Impact `json:"duringOutage,omitempty"`
	TimedOut     bool    `json:"timedOut,omitempty"`
}

// FillResult is what fillToFailure placed before the first pod that did
// not fit.
type FillResult struct {
	Index int `json:"index"`
	// Placed counts the bound pods of each shape, by shape name.
	Placed map[string]int `json:"placed"`
	Total  int            `json:"total"`
	// FirstFailure names the shape of the pod that did not fit, with the
	// scheduler's reason; empty when maxPods was reached first.
	FirstFailure       string `json:"firstFailure,omitempty"`
	FirstFailureReason string `json:"firstFailureReason,omitempty"`
	TimedOut           bool   `json:"timedOut,omitempty"`
}

// HistogramSummary is one series of one of the scheduler's histograms, in
// milliseconds, as scheduler_perf reports them (quantiles interpolated
// within the Prometheus buckets).
type HistogramSummary struct {
	Metric string            `json:"metric"`
	Labels map[string]string `json:"labels,omitempty"`
	Count  uint64            `json:"count"`
	AvgMs  float64           `json:"averageMs"`
	P50Ms  float64           `json:"perc50Ms"`
	P90Ms  float64           `json:"perc90Ms"`
	P99Ms  float64           `json:"perc99Ms"`
}
