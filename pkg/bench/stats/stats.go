// Package stats computes the harness's figures: throughput samples as
// upstream scheduler_perf takes them, and nearest-rank percentiles.
package stats

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Summary is a distribution's average, percentiles and extremes.
type Summary struct {
	Count   int     `json:"count"`
	Average float64 `json:"average"`
	Perc50  float64 `json:"perc50"`
	Perc90  float64 `json:"perc90"`
	Perc95  float64 `json:"perc95"`
	Perc99  float64 `json:"perc99"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
}

// Percentile is the nearest-rank percentile of sorted values: the smallest
// value with at least p percent of the values at or below it, the definition
// scheduler_perf uses (sorted[ceil(n·p/100) − 1]). Zero for no values.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(float64(n)*p/100)) - 1
	return sorted[min(max(i, 0), n-1)]
}

// Summarize sorts a copy of values and summarises it.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	s := slices.Sorted(slices.Values(values)) // a copy: values stay as given
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return Summary{
		Count: len(s), Average: sum / float64(len(s)),
		Perc50: Percentile(s, 50), Perc90: Percentile(s, 90), Perc95: Percentile(s, 95), Perc99: Percentile(s, 99),
		Min: s[0], Max: s[len(s)-1],
	}
}

// ThroughputSamples turns bind times into throughput samples (pods/s) the
// way scheduler_perf's collector does with its ticker, computed afterwards
// from the recorded times so that it is exact and repeatable:
//   - ticks fall at start + k·interval up to end;
//   - ticks before the first bound pod are ignored, and the first tick that
//     sees one is skipped (sampling and pod creation start independently);
//   - a tick with no new binds records nothing yet; the next tick with new
//     binds records their rate over the whole time since the last sample,
//     once per interval covered, so percentiles are not skewed.
//
// binds need not be sorted.
func ThroughputSamples(start, end time.Time, interval time.Duration, binds []time.Time) []float64 {
	if interval <= 0 {
		return nil
	}
	sorted := append([]time.Time(nil), binds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	// boundAt counts binds at or before t.
	boundAt := func(t time.Time) int {
		return sort.Search(len(sorted), func(i int) bool { return sorted[i].After(t) })
	}
	var samples []float64
	started := false
	var lastCount, skipped int
	var lastTime time.Time
	for tick := start.Add(interval); !tick.After(end); tick = tick.Add(interval) {
		n := boundAt(tick)
		if n == 0 {
			continue
		}
		if !started {
			started, lastCount, lastTime = true, n, tick
			continue
		}
		if n == lastCount {
			skipped++
			continue
		}
		rate := float64(n-lastCount) / tick.Sub(lastTime).Seconds()
		for range skipped + 1 {
			samples = append(samples, rate)
		}
		lastCount, lastTime, skipped = n, tick, 0
	}
	return samples
}

// CDF returns the nearest-rank percentiles 0, 100/steps, ..., 100 of values
// (steps+1 of them), or nil for no values.
func CDF(values []float64, steps int) []float64 {
	if len(values) == 0 || steps < 1 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(values)) // a copy: values stay as given
	out := make([]float64, steps+1)
	for i := range out {
		out[i] = Percentile(sorted, 100*float64(i)/float64(steps))
	}
	return out
}
