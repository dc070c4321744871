package runner

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
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
	tw.Flush()
}
