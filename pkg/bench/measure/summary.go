package measure

import (
	"slices"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
)

// SampleInterval is how often throughput is sampled: every second, as
// scheduler_perf's throughput collector does.
const SampleInterval = time.Second

// Summary is what the executor knows at the end of a run that the tracker
// does not: what names each pod's node and workload, the nodes the final
// placement is judged on, and which binds count in throughput.
type Summary struct {
	// Zones maps each node of the run to its zone.
	Zones map[string]string
	// Nodes are the nodes the final placement is judged on (those no
	// drill took down), and Reference the pod whose fit packing counts
	// (docs/quality.md); nil means quality.DefaultReferencePod.
	Nodes     []quality.Node
	Reference v1.ResourceList
	// Throughput is sampled either over Windows, when there are any, or
	// from From (when the first measured pod was created) to the last bind
	// of a measured pod, counting no bind after Until when it is set (the
	// end of the barrier that waited for the measured pods). Zero From and
	// no Windows: nothing was measured, and there is no throughput.
	From    time.Time
	Until   time.Time
	Windows []Window
}

// Window is a span of the run whose binds count in throughput: those of
// the pods Covers accepts, bound between Start and End. It is
// scheduler_perf's metrics collection window (collectMetrics on a
// createPods op, or startCollectingMetrics … stopCollectingMetrics).
type Window struct {
	Start, End time.Time
	Covers     func(*v1.Pod) bool
}

// summarize fills res's outcomes, placements, quality, throughput and
// latency from the tracker's records.
func (sum Summary) summarize(res *result.Result, recs []Record) {
	res.SetPlacements(sum.Placements(recs))
	res.Quality = quality.Compute(sum.Nodes, res.Placements(), sum.Reference)
	binds, lat := tally(res, recs)
	switch {
	case len(sum.Windows) > 0:
		res.ThroughputTimeline = windowSamples(sum.Windows, recs)
		res.Throughput = stats.Summarize(res.ThroughputTimeline)
	case !sum.From.IsZero():
		if !sum.Until.IsZero() {
			binds = slices.DeleteFunc(binds, func(b time.Time) bool { return b.After(sum.Until) })
		}
		last := sum.From
		for _, b := range binds {
			if b.After(last) {
				last = b
			}
		}
		res.ThroughputTimeline = stats.ThroughputSamples(sum.From, last.Add(SampleInterval), SampleInterval, binds)
		if len(binds) == 0 || !last.After(sum.From) {
			res.Throughput = stats.Summarize(res.ThroughputTimeline)
			break
		}
		// The phase's own rate: its pods over its time. The 1 s samples
		// drop the first second (the first tick only starts the count),
		// which on a phase of a few seconds is most of it: their mean
		// would make a scheduler that binds most pods in that second look
		// the slower, and a phase over before the second tick has no
		// sample but this one.
		rate := float64(len(binds)) / last.Sub(sum.From).Seconds()
		if len(res.ThroughputTimeline) == 0 {
			res.ThroughputTimeline = []float64{rate}
		}
		res.Throughput = stats.Summarize(res.ThroughputTimeline)
		res.Throughput.Average = rate
	}
	res.Latency = stats.Summarize(lat)
	res.LatencyCDF = stats.CDF(lat, 100)
}

// windowSamples samples each window from its start to its end over the
// binds of the pods it covers, as scheduler_perf's throughput collector
// does, and pools the windows' samples in their order: the timeline then
// runs over measured time only.
func windowSamples(windows []Window, recs []Record) []float64 {
	var samples []float64
	for _, w := range windows {
		var binds []time.Time
		for _, rec := range recs {
			if rec.Bound.IsZero() || rec.Pod == nil || !w.Covers(rec.Pod) {
				continue
			}
			if !rec.Bound.Before(w.Start) && !rec.Bound.After(w.End) {
				binds = append(binds, rec.Bound)
			}
		}
		samples = append(samples, stats.ThroughputSamples(w.Start, w.End, SampleInterval, binds)...)
	}
	return samples
}

// tally counts the outcomes into res and returns the bind times and
// creation-to-bind latencies (seconds) of the measured pods that were bound.
func tally(res *result.Result, recs []Record) (binds []time.Time, lat []float64) {
	res.Pods, res.Scheduled, res.Unschedulable, res.Preempted = 0, 0, 0, 0
	for _, rec := range recs {
		res.Pods++
		switch {
		case !rec.Bound.IsZero():
			res.Scheduled++
		case rec.Unschedulable:
			res.Unschedulable++
		}
		if rec.Preempted {
			res.Preempted++
		}
		if rec.Measured && !rec.Bound.IsZero() {
			binds = append(binds, rec.Bound)
			lat = append(lat, rec.Bound.Sub(rec.Created).Seconds())
		}
	}
	return binds, lat
}

// Placements lists every pod of recs the watch has seen, bound or not,
// deleted or not, sorted by namespace and name.
func (sum Summary) Placements(recs []Record) []result.Placement {
	out := make([]result.Placement, 0, len(recs))
	for _, rec := range recs {
		if rec.Pod == nil {
			continue
		}
		// What the pod says of itself (owner, ordinal, requests), with
		// what the tracker saw happen to it.
		p := result.PlacementOf(rec.Pod, sum.Zones)
		p.Node, p.Zone, p.Deleted = rec.Node, sum.Zones[rec.Node], rec.Deleted
		p.Unschedulable, p.Reason = false, ""
		if rec.Node == "" {
			p.Unschedulable, p.Reason = rec.Unschedulable, rec.Reason
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}
