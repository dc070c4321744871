package result

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/placer-dev/placer/pkg/bench/stats"
)

// Figure is one row of the comparison: a figure's value in every run of
// every profile, its median with an interval, and each later profile's
// ratio to the first (the baseline).
type Figure struct {
	// Section groups rows: "speed", "placement", "drills", "fills".
	Section string `json:"section"`
	Name    string `json:"name"`
	// Format prints one value (a fmt verb).
	Format   string          `json:"format"`
	Profiles []ProfileFigure `json:"profiles"`
}

// ProfileFigure is one profile's values of a figure.
type ProfileFigure struct {
	Profile  string         `json:"profile"`
	Runs     []float64      `json:"runs"`
	Interval stats.Interval `json:"interval"`
	// RatioToFirst is absent for the baseline and where its median is 0.
	RatioToFirst *stats.Ratio `json:"ratioToFirst,omitempty"`
}

// figureDef says how to read one figure from a run.
type figureDef struct {
	section, name, format string
	value                 func(*Result) float64
}

// Compare computes every figure over runs (runs[i]: every run of profile i),
// the baseline being runs[0].
func Compare(runs [][]*Result) []Figure {
	if len(runs) == 0 || len(runs[0]) == 0 {
		return nil
	}
	var out []Figure
	for _, d := range figureDefs(runs) {
		f := Figure{Section: d.section, Name: d.name, Format: d.format}
		var base []float64
		for i, profileRuns := range runs {
			pf := ProfileFigure{Profile: profileRuns[0].Profile}
			for _, r := range profileRuns {
				pf.Runs = append(pf.Runs, d.value(r))
			}
			pf.Interval = stats.MedianInterval(pf.Runs, stats.Confidence)
			if i == 0 {
				base = pf.Runs
			} else if ratio, ok := ratioToFirst(base, pf.Runs); ok {
				pf.RatioToFirst = &ratio
			}
			f.Profiles = append(f.Profiles, pf)
		}
		out = append(out, f)
	}
	return out
}

// ratioToFirst pairs each run with the baseline's of the same round (the
// runs of a profile are in the order they ran, one per round) when every
// round has both; otherwise it divides the medians.
func ratioToFirst(base, runs []float64) (stats.Ratio, bool) {
	if r, ok := stats.PairedRatioOf(base, runs, stats.Confidence); ok {
		return r, true
	}
	return stats.RatioOf(base, runs, stats.Confidence)
}

// figureDefs lists the figures the runs have: speed, then placement quality
// (docs/quality.md), then the drills and fills of the baseline's workload.
func figureDefs(runs [][]*Result) []figureDef {
	var defs []figureDef
	add := func(section, name, format string, value func(*Result) float64) {
		defs = append(defs, figureDef{section, name, format, value})
	}
	add("speed", "pods", "%.0f", func(r *Result) float64 { return float64(r.Pods) })
	add("speed", "scheduled", "%.0f", func(r *Result) float64 { return float64(r.Scheduled) })
	add("speed", "unschedulable", "%.0f", func(r *Result) float64 { return float64(r.Unschedulable) })
	add("speed", "preempted", "%.0f", func(r *Result) float64 { return float64(r.Preempted) })
	add("speed", "throughput avg (pods/s)", "%.1f", func(r *Result) float64 { return r.Throughput.Average })
	add("speed", "throughput p50", "%.1f", func(r *Result) float64 { return r.Throughput.Perc50 })
	add("speed", "throughput p90", "%.1f", func(r *Result) float64 { return r.Throughput.Perc90 })
	add("speed", "throughput p99", "%.1f", func(r *Result) float64 { return r.Throughput.Perc99 })
	ms := func(s float64) float64 { return s * 1000 }
	add("speed", "latency p50 (ms)", "%.1f", func(r *Result) float64 { return ms(r.Latency.Perc50) })
	add("speed", "latency p90 (ms)", "%.1f", func(r *Result) float64 { return ms(r.Latency.Perc90) })
	add("speed", "latency p99 (ms)", "%.1f", func(r *Result) float64 { return ms(r.Latency.Perc99) })
	add("speed", "latency max (ms)", "%.1f", func(r *Result) float64 { return ms(r.Latency.Max) })
	add("speed", "wall (s)", "%.1f", func(r *Result) float64 { return r.Wall.Round(time.Millisecond).Seconds() })
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	add("speed", "peak heap (MiB)", "%.0f", func(r *Result) float64 { return mib(r.PeakHeap) })
	add("speed", "peak RSS (MiB)", "%.0f", func(r *Result) float64 { return mib(r.PeakRSS) })

	q := func(r *Result) *Quality { return &r.Quality }
	pct := func(f float64) float64 { return 100 * f }
	add("placement", "worst zone skew", "%.0f", func(r *Result) float64 { return float64(q(r).Spread.WorstZoneSkew) })
	add("placement", "worst node skew", "%.0f", func(r *Result) float64 { return float64(q(r).Spread.WorstNodeSkew) })
	add("placement", "quorum kept, worst zone lost (%)", "%.1f", func(r *Result) float64 { return pct(q(r).Availability.WorstZone.StatefulSetsWithQuorum) })
	add("placement", "quorum kept, worst node lost (%)", "%.1f", func(r *Result) float64 { return pct(q(r).Availability.WorstNode.StatefulSetsWithQuorum) })
	add("placement", "deployments up, worst zone lost (%)", "%.1f", func(r *Result) float64 { return pct(q(r).Availability.WorstZone.DeploymentsAvailable) })
	for _, name := range resourceNames(runs) {
		res := func(r *Result) ResourcePacking {
			for _, rp := range q(r).Packing.Resources {
				if rp.Resource == name {
					return rp
				}
			}
			return ResourcePacking{}
		}
		if name == "cpu" || name == "memory" {
			add("placement", name+" requested, mean (%)", "%.1f", func(r *Result) float64 { return pct(res(r).RequestedMean) })
			add("placement", name+" requested, std dev (%)", "%.1f", func(r *Result) float64 { return pct(res(r).RequestedStdDev) })
		} else {
			// Extended resources (GPUs) live on some nodes only: what users
			// ask is how much of the cluster's capacity is taken.
			add("placement", name+" requested of capacity (%)", "%.1f", func(r *Result) float64 { return pct(res(r).RequestedOfCapacity) })
			add("placement", name+" requested, std dev over nodes (%)", "%.1f", func(r *Result) float64 { return pct(res(r).RequestedStdDev) })
		}
		add("placement", name+" stranded (%)", "%.2f", func(r *Result) float64 { return pct(res(r).StrandedFraction) })
	}
	add("placement", "nodes in use", "%.0f", func(r *Result) float64 { return float64(q(r).Packing.NodesInUse) })
	add("placement", "reference pods that still fit", "%.0f", func(r *Result) float64 { return float64(q(r).Packing.ReferencePodsFit) })

	base := runs[0][0]
	if base.Trace != nil {
		traceFigures(runs, add)
	}
	for i, d := range base.Drills {
		label := fmt.Sprintf("%s %s", d.Op, d.Domain)
		drill := func(r *Result) DrillResult {
			if i < len(r.Drills) {
				return r.Drills[i]
			}
			return DrillResult{}
		}
		add("drills", label+": displaced", "%.0f", func(r *Result) float64 { return float64(drill(r).PodsDisplaced) })
		add("drills", label+": rebound", "%.0f", func(r *Result) float64 { return float64(drill(r).Rebound) })
		add("drills", label+": unplaced", "%.0f", func(r *Result) float64 { return float64(drill(r).Unplaced) })
		add("drills", label+": rebound p99 (s)", "%.2f", func(r *Result) float64 { return drill(r).ReboundSeconds.Perc99 })
		if d.DuringOutage != nil {
			add("drills", label+": quorum kept (%)", "%.1f", func(r *Result) float64 {
				if o := drill(r).DuringOutage; o != nil {
					return pct(o.StatefulSetsWithQuorum)
				}
				return 0
			})
		}
	}
	for i, fr := range base.Fills {
		fill := func(r *Result) FillResult {
			if i < len(r.Fills) {
				return r.Fills[i]
			}
			return FillResult{}
		}
		add("fills", fmt.Sprintf("fillToFailure ops[%d]: pods placed", fr.Index), "%.0f", func(r *Result) float64 { return float64(fill(r).Total) })
		for _, shape := range sortedKeys(fr.Placed) {
			add("fills", "  of shape "+shape, "%.0f", func(r *Result) float64 { return float64(fill(r).Placed[shape]) })
		}
	}
	return defs
}

// PrintTable writes the comparison side by side. With one run per profile
// a cell is the value and, after the first profile, its ratio to the
// first's; with more, the median ± the interval's largest distance from it
// (as benchstat prints), and the ratio with its interval, marked "~" where
// the interval includes 1: no difference the runs can show.
func PrintTable(w io.Writer, figures []Figure) {
	if len(figures) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	header := "\t"
	for _, p := range figures[0].Profiles {
		header += p.Profile + "\t"
	}
	fmt.Fprintln(tw, header)
	section := "speed"
	for _, f := range figures {
		if f.Section != section {
			section = f.Section
			if section == "placement" || section == "trace" {
				fmt.Fprintln(tw, section+"\t")
			}
		}
		line := f.Name + "\t"
		for _, p := range f.Profiles {
			line += cell(f.Format, p) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, intervalNote(figures))
}

func cell(format string, p ProfileFigure) string {
	iv := p.Interval
	out := fmt.Sprintf(format, iv.Median)
	if iv.HasInterval() {
		out += " ±" + relative(iv.Median, max(iv.Hi-iv.Median, iv.Median-iv.Lo))
	}
	r := p.RatioToFirst
	if r == nil {
		return out
	}
	if !r.HasInterval() {
		return out + fmt.Sprintf(" (%.2fx)", r.Ratio)
	}
	hi := "∞"
	if !math.IsInf(r.Hi, 1) {
		hi = fmt.Sprintf("%.2f", r.Hi)
	}
	mark := ""
	if !r.Differs {
		mark = " ~"
	}
	return out + fmt.Sprintf(" (%.2fx %.2f–%s%s)", r.Ratio, r.Lo, hi, mark)
}

// relative is d as a percentage of m, as benchstat prints ±.
func relative(m, d float64) string {
	switch {
	case d == 0:
		return "0%"
	case m == 0:
		return "∞"
	}
	return fmt.Sprintf("%.0f%%", 100*math.Abs(d/m))
}

// intervalNote says what the table's intervals mean for this many runs.
func intervalNote(figures []Figure) string {
	n := math.MaxInt
	for _, p := range figures[0].Profiles {
		n = min(n, p.Interval.N)
	}
	if n <= 1 {
		return fmt.Sprintf("1 run per profile: no interval, and a ratio can be noise; --count %d or more gives 95%% intervals.", stats.RunsFor(math.Sqrt(stats.Confidence)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Medians of %d runs per profile, interleaved, each in its own process; ± is the widest side of the median's interval", n)
	level := stats.MedianInterval(make([]float64, n), stats.Confidence).Confidence
	fmt.Fprintf(&b, " (%.0f%% confidence", 100*level)
	if n < stats.RunsFor(stats.Confidence) {
		b.WriteString(": the range of the runs, too few for 95%")
	}
	b.WriteString(").\n")
	ratioLevel, paired := 0.0, false
	for _, f := range figures {
		for _, p := range f.Profiles {
			if p.RatioToFirst != nil && p.RatioToFirst.HasInterval() {
				if c := p.RatioToFirst.Confidence; ratioLevel == 0 || c < ratioLevel {
					ratioLevel = c
				}
				paired = paired || p.RatioToFirst.Paired
			}
		}
	}
	if ratioLevel > 0 {
		how, runs := "ratio of medians", stats.RunsFor(math.Sqrt(stats.Confidence))
		if paired {
			how, runs = "median of the ratios of runs in the same round", stats.RunsFor(stats.Confidence)
		}
		fmt.Fprintf(&b, "Ratios to the first profile: %s, lo–hi at %.0f%% confidence or more; ~ marks an interval that includes 1 (no difference shown).", how, 100*ratioLevel)
		if ratioLevel < stats.Confidence {
			fmt.Fprintf(&b, " --count %d or more gives 95%%.", runs)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// resourceNames lists the resources any result packs, cpu and memory first.
func resourceNames(runs [][]*Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, profileRuns := range runs {
		for _, r := range profileRuns {
			for _, rp := range r.Quality.Packing.Resources {
				if !seen[rp.Resource] {
					seen[rp.Resource] = true
					out = append(out, rp.Resource)
				}
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
