package runner

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/placer-dev/placer/pkg/bench/quality"
)

// PrintTable writes the results side by side, each figure of a later
// profile followed by its ratio to the first profile's.
func PrintTable(w io.Writer, results []*Result) {
	if len(results) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	header := "\t"
	for _, r := range results {
		header += r.Profile + "\t"
	}
	fmt.Fprintln(tw, header)
	base := results[0]
	row := func(name string, f func(*Result) float64, format string) {
		line := name + "\t"
		for i, r := range results {
			v := f(r)
			cell := fmt.Sprintf(format, v)
			if i > 0 {
				if b := f(base); b != 0 {
					cell += fmt.Sprintf(" (%.2fx)", v/b)
				}
			}
			line += cell + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	row("pods", func(r *Result) float64 { return float64(r.Pods) }, "%.0f")
	row("scheduled", func(r *Result) float64 { return float64(r.Scheduled) }, "%.0f")
	row("unschedulable", func(r *Result) float64 { return float64(r.Unschedulable) }, "%.0f")
	row("preempted", func(r *Result) float64 { return float64(r.Preempted) }, "%.0f")
	row("throughput avg (pods/s)", func(r *Result) float64 { return r.Throughput.Average }, "%.1f")
	row("throughput p50", func(r *Result) float64 { return r.Throughput.Perc50 }, "%.1f")
	row("throughput p90", func(r *Result) float64 { return r.Throughput.Perc90 }, "%.1f")
	row("throughput p99", func(r *Result) float64 { return r.Throughput.Perc99 }, "%.1f")
	ms := func(s float64) float64 { return s * 1000 }
	row("latency p50 (ms)", func(r *Result) float64 { return ms(r.Latency.Perc50) }, "%.1f")
	row("latency p90 (ms)", func(r *Result) float64 { return ms(r.Latency.Perc90) }, "%.1f")
	row("latency p99 (ms)", func(r *Result) float64 { return ms(r.Latency.Perc99) }, "%.1f")
	row("latency max (ms)", func(r *Result) float64 { return ms(r.Latency.Max) }, "%.1f")
	row("wall (s)", func(r *Result) float64 { return r.Wall.Round(time.Millisecond).Seconds() }, "%.1f")
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	row("peak heap (MiB)", func(r *Result) float64 { return mib(r.PeakHeap) }, "%.0f")
	row("peak RSS (MiB)", func(r *Result) float64 { return mib(r.PeakRSS) }, "%.0f")

	// Placement quality (docs/quality.md).
	fmt.Fprintln(tw, "placement\t")
	q := func(r *Result) *quality.Report { return &r.Quality }
	pct := func(f float64) float64 { return 100 * f }
	row("worst zone skew", func(r *Result) float64 { return float64(q(r).Spread.WorstZoneSkew) }, "%.0f")
	row("worst node skew", func(r *Result) float64 { return float64(q(r).Spread.WorstNodeSkew) }, "%.0f")
	row("quorum kept, worst zone lost (%)", func(r *Result) float64 { return pct(q(r).Availability.WorstZone.StatefulSetsWithQuorum) }, "%.1f")
	row("quorum kept, worst node lost (%)", func(r *Result) float64 { return pct(q(r).Availability.WorstNode.StatefulSetsWithQuorum) }, "%.1f")
	row("deployments up, worst zone lost (%)", func(r *Result) float64 { return pct(q(r).Availability.WorstZone.DeploymentsAvailable) }, "%.1f")
	for _, name := range resourceNames(results) {
		res := func(r *Result) quality.ResourcePacking {
			for _, rp := range q(r).Packing.Resources {
				if rp.Resource == name {
					return rp
				}
			}
			return quality.ResourcePacking{}
		}
		row(name+" requested, mean (%)", func(r *Result) float64 { return pct(res(r).RequestedMean) }, "%.1f")
		row(name+" requested, std dev (%)", func(r *Result) float64 { return pct(res(r).RequestedStdDev) }, "%.1f")
		if name == "cpu" || name == "memory" {
			row(name+" stranded (%)", func(r *Result) float64 { return pct(res(r).StrandedFraction) }, "%.2f")
		}
	}
	row("nodes in use", func(r *Result) float64 { return float64(q(r).Packing.NodesInUse) }, "%.0f")
	row("reference pods that still fit", func(r *Result) float64 { return float64(q(r).Packing.ReferencePodsFit) }, "%.0f")
	for i, d := range base.Drills {
		label := fmt.Sprintf("%s %s", d.Op, d.Domain)
		drill := func(r *Result) DrillResult {
			if i < len(r.Drills) {
				return r.Drills[i]
			}
			return DrillResult{}
		}
		row(label+": displaced", func(r *Result) float64 { return float64(drill(r).PodsDisplaced) }, "%.0f")
		row(label+": rebound", func(r *Result) float64 { return float64(drill(r).Rebound) }, "%.0f")
		row(label+": unplaced", func(r *Result) float64 { return float64(drill(r).Unplaced) }, "%.0f")
		row(label+": rebound p99 (s)", func(r *Result) float64 { return drill(r).ReboundSeconds.Perc99 }, "%.2f")
		if d.DuringOutage != nil {
			row(label+": quorum kept (%)", func(r *Result) float64 {
				if o := drill(r).DuringOutage; o != nil {
					return pct(o.StatefulSetsWithQuorum)
				}
				return 0
			}, "%.1f")
		}
	}
	for i := range base.Fills {
		fill := func(r *Result) FillResult {
			if i < len(r.Fills) {
				return r.Fills[i]
			}
			return FillResult{}
		}
		row(fmt.Sprintf("fillToFailure ops[%d]: pods placed", base.Fills[i].Index), func(r *Result) float64 { return float64(fill(r).Total) }, "%.0f")
		for _, shape := range sortedKeys(base.Fills[i].Placed) {
			row("  of shape "+shape, func(r *Result) float64 { return float64(fill(r).Placed[shape]) }, "%.0f")
		}
	}
	tw.Flush()
}

// resourceNames lists the resources any result packs, cpu and memory first.
func resourceNames(results []*Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range results {
		for _, rp := range r.Quality.Packing.Resources {
			if !seen[rp.Resource] {
				seen[rp.Resource] = true
				out = append(out, rp.Resource)
			}
		}
	}
	rank := func(s string) int {
		switch s {
		case "cpu":
			return 0
		case "memory":
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		if rank(out[i]) != rank(out[j]) {
			return rank(out[i]) < rank(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
