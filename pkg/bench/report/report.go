// Package report writes a run's results in the formats people already use:
// report.json (Placer's own, versioned), scheduler_perf's DataItems JSON
// that perfdash reads, Go benchmark lines that benchstat compares, and a
// placements export.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"time"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
)

// SchemaVersion is report.json's apiVersion; docs/report.md describes it.
// v1alpha2 added repeated runs (count, order, runs, comparison); Read still
// reads v1alpha1, whose profiles ran once each.
const SchemaVersion = "bench.placer.dev/v1alpha2"

const schemaV1alpha1 = "bench.placer.dev/v1alpha1"

// Report is report.json.
type Report struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Workload   string         `json:"workload"`
	File       string         `json:"file"`
	Params     map[string]int `json:"params,omitempty"`
	Backend    string         `json:"backend"`
	RunID      string         `json:"runID"`
	Started    time.Time      `json:"started"`
	// Count is how many times each profile was asked to run; Order, the
	// profiles of each round in the order they ran.
	Count int        `json:"count"`
	Order [][]string `json:"order,omitempty"`
	// Runs holds every run: Runs[i] are profile i's, in the order they ran.
	Runs [][]*result.Result `json:"runs"`
	// Profiles holds each profile's representative run, the one with the
	// median average throughput: the charts, dataitems.json and the
	// placements export come from it.
	Profiles []*result.Result `json:"profiles"`
	// Comparison is every figure's median and interval per profile and
	// its ratio to the first profile's: the table.
	Comparison []result.Figure `json:"comparison"`
}

// Summarize fills Profiles and Comparison from Runs. A report that has
// profiles and no runs (report.json v1alpha1) ran each profile once.
func (r *Report) Summarize() {
	if len(r.Runs) == 0 {
		for _, p := range r.Profiles {
			r.Runs = append(r.Runs, []*result.Result{p})
		}
		r.Count = min(len(r.Runs), 1)
	}
	r.Profiles = nil
	var runs [][]*result.Result
	for _, profileRuns := range r.Runs {
		if len(profileRuns) == 0 {
			continue
		}
		runs = append(runs, profileRuns)
		r.Profiles = append(r.Profiles, representative(profileRuns))
	}
	r.Comparison = result.Compare(runs)
}

// representative is the run of median average throughput (the lower of the
// middle two for an even count).
func representative(runs []*result.Result) *result.Result {
	sorted := append([]*result.Result(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Throughput.Average < sorted[j].Throughput.Average })
	return sorted[(len(sorted)-1)/2]
}

// Files names what Write produces in a run directory.
const (
	ReportFile     = "report.json"
	DataItemsFile  = "dataitems.json"
	BenchstatFile  = "bench.txt"
	PlacementsFile = "placements-%s.jsonl"
)

// Write puts every output of a run into dir, creating it.
func Write(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.APIVersion, r.Kind = SchemaVersion, "Report"
	if r.Comparison == nil {
		r.Summarize()
	}
	if err := writeJSON(filepath.Join(dir, ReportFile), r); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, DataItemsFile), DataItems(r)); err != nil {
		return err
	}
	if err := writeWith(filepath.Join(dir, BenchstatFile), func(w io.Writer) error { return Benchstat(w, r) }); err != nil {
		return err
	}
	for _, p := range r.Profiles {
		name := filepath.Join(dir, fmt.Sprintf(PlacementsFile, p.Profile))
		if err := writeWith(name, func(w io.Writer) error { return WritePlacements(w, p.Placements()) }); err != nil {
			return err
		}
	}
	return WritePage(dir, r)
}

func writeJSON(path string, v any) error {
	return writeWith(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// writeWith writes a file through a temporary name, so that an interrupted
// write never leaves half a file under the real one.
func writeWith(path string, fill func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := fill(bw); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// DataItem is scheduler_perf's unit of output, which perfdash reads.
type DataItem struct {
	Data   map[string]float64 `json:"data"`
	Unit   string             `json:"unit"`
	Labels map[string]string  `json:"labels,omitempty"`
}

// DataItemsDoc is the file perfdash reads.
type DataItemsDoc struct {
	Version   string     `json:"version"`
	DataItems []DataItem `json:"dataItems"`
}

func summaryData(s stats.Summary, scale float64) map[string]float64 {
	return map[string]float64{"Average": s.Average * scale, "Perc50": s.Perc50 * scale,
		"Perc90": s.Perc90 * scale, "Perc95": s.Perc95 * scale, "Perc99": s.Perc99 * scale}
}

// DataItems converts a report to scheduler_perf's format: one
// SchedulingThroughput item per profile (pods/s), one pod end-to-end
// latency item (ms), and one item per scheduler histogram series (ms). The
// Name label is the workload, as scheduler_perf's is the test case.
func DataItems(r *Report) DataItemsDoc {
	out := DataItemsDoc{Version: "v1"}
	for _, p := range r.Profiles {
		base := func(metric string) map[string]string {
			return map[string]string{"Metric": metric, "Name": r.Workload, "Profile": p.Profile, "Backend": p.Backend}
		}
		if p.Throughput.Count > 0 {
			out.DataItems = append(out.DataItems, DataItem{Data: summaryData(p.Throughput, 1), Unit: "pods/s", Labels: base("SchedulingThroughput")})
		}
		if p.Latency.Count > 0 {
			out.DataItems = append(out.DataItems, DataItem{Data: summaryData(p.Latency, 1000), Unit: "ms", Labels: base("pod_e2e_scheduling_latency")})
		}
		for _, h := range p.Scheduler {
			labels := base(h.Metric)
			for k, v := range h.Labels {
				labels[k] = v
			}
			out.DataItems = append(out.DataItems, DataItem{Unit: "ms", Labels: labels,
				Data: map[string]float64{"Average": h.AvgMs, "Perc50": h.P50Ms, "Perc90": h.P90Ms, "Perc99": h.P99Ms}})
		}
	}
	return out
}

var benchNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Benchstat writes one Go benchmark line per run, which benchstat
// summarises (median and interval over the runs of a profile) and compares
// (`benchstat -col /profile bench.txt`, or two files of two commits):
//
//	BenchmarkPlacer/workload=basic/profile=placer-2  1  27300000000 ns/op  408.4 pods/s  11.6 p50-latency-s ...
func Benchstat(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/placer-dev/placer/bench\n", runtime.GOOS, runtime.GOARCH)
	for _, p := range r.allRuns() {
		name := fmt.Sprintf("BenchmarkPlacer/workload=%s/profile=%s-%d",
			benchNameUnsafe.ReplaceAllString(r.Workload, "_"), benchNameUnsafe.ReplaceAllString(p.Profile, "_"), runtime.GOMAXPROCS(0))
		if _, err := fmt.Fprintf(w, "%s\t1\t%d ns/op\t%.2f pods/s\t%.4f p50-latency-s\t%.4f p99-latency-s\t%d scheduled\t%d unschedulable\t%d peak-heap-B\n",
			name, p.Wall.Nanoseconds(), p.Throughput.Average, p.Latency.Perc50, p.Latency.Perc99,
			p.Scheduled, p.Unschedulable, p.PeakHeap); err != nil {
			return err
		}
	}
	return nil
}

// allRuns lists every run, round by round.
func (r *Report) allRuns() []*result.Result {
	var out []*result.Result
	for k := 0; ; k++ {
		found := false
		for _, profileRuns := range r.Runs {
			if k < len(profileRuns) {
				out = append(out, profileRuns[k])
				found = true
			}
		}
		if !found {
			return out
		}
	}
}

// WritePlacements writes one JSON object per line per pod.
func WritePlacements(w io.Writer, placements []result.Placement) error {
	enc := json.NewEncoder(w)
	for _, p := range placements {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}
