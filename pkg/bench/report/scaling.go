package report

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
)

// ScalingFile is the page WriteScaling draws.
const ScalingFile = "scaling.html"

// ScalingPoint is one profile at one size of one workload shape: the
// medians (with intervals) of the run directory's report at that size.
type ScalingPoint struct {
	Shape   string `json:"shape"`
	Profile string `json:"profile"`
	Dir     string `json:"dir"`
	Nodes   int    `json:"nodes"`
	Pods    int    `json:"pods"`
	Runs    int    `json:"runs"`
	// Throughput (pods/s, average), PeakRSS (MiB) and Wall (s).
	Throughput stats.Interval `json:"throughput"`
	PeakRSS    stats.Interval `json:"peakRSSMiB"`
	Wall       stats.Interval `json:"wallSeconds"`
}

// figures the scaling page reads from each report's comparison.
const (
	figThroughput = "throughput avg (pods/s)"
	figPeakRSS    = "peak RSS (MiB)"
	figWall       = "wall (s)"
)

// ScalingPoints reads one point per profile from each report (dirs[i]
// holds reports[i]), ordered by shape, profile and node count. A report
// that lacks a figure, or whose representative run has no nodes, is an
// error naming its directory: a curve with a hole would mislead.
func ScalingPoints(dirs []string, reports []*Report) ([]ScalingPoint, error) {
	var out []ScalingPoint
	for i, r := range reports {
		figs := map[string]result.Figure{}
		for _, f := range r.Comparison {
			figs[f.Name] = f
		}
		for p, res := range r.Profiles {
			pt := ScalingPoint{Shape: r.Workload, Profile: res.Profile, Dir: dirs[i], Nodes: res.Quality.Packing.Nodes, Pods: res.Pods, Runs: len(r.Runs[p])}
			if pt.Nodes == 0 {
				return nil, fmt.Errorf("%s: profile %s's run judged no nodes", dirs[i], res.Profile)
			}
			for name, into := range map[string]*stats.Interval{figThroughput: &pt.Throughput, figPeakRSS: &pt.PeakRSS, figWall: &pt.Wall} {
				f, ok := figs[name]
				if !ok || p >= len(f.Profiles) {
					return nil, fmt.Errorf("%s: report.json has no %q for profile %s", dirs[i], name, res.Profile)
				}
				*into = f.Profiles[p].Interval
			}
			out = append(out, pt)
		}
	}
	slices.SortStableFunc(out, func(a, b ScalingPoint) int {
		return cmp.Or(cmp.Compare(a.Shape, b.Shape), cmp.Compare(a.Profile, b.Profile), cmp.Compare(a.Nodes, b.Nodes))
	})
	return out, nil
}

// WriteScaling draws, for each shape, throughput and peak memory against
// node count, one line per profile, into dir: scaling.html (charts and a
// table of every point with its interval), the charts as SVG files, and
// scaling.json (the points).
func WriteScaling(dir string, points []ScalingPoint) error {
	var shapes []string
	for _, pt := range points {
		if !slices.Contains(shapes, pt.Shape) {
			shapes = append(shapes, pt.Shape)
		}
	}
	var charts []chart
	for _, shape := range shapes {
		for _, c := range []struct {
			what, unit string
			value      func(ScalingPoint) float64
		}{
			{"throughput", "pods/s (median of runs)", func(p ScalingPoint) float64 { return p.Throughput.Median }},
			{"peak-rss", "peak RSS, MiB (median of runs)", func(p ScalingPoint) float64 { return p.PeakRSS.Median }},
		} {
			var lines []series
			for _, pt := range points {
				if pt.Shape != shape {
					continue
				}
				if len(lines) == 0 || lines[len(lines)-1].name != pt.Profile {
					lines = append(lines, series{name: pt.Profile})
				}
				l := &lines[len(lines)-1]
				l.points = append(l.points, [2]float64{float64(pt.Nodes), c.value(pt)})
			}
			title := fmt.Sprintf("%s: %s against nodes", shape, c.what)
			charts = append(charts, chart{Title: title, File: fileSafe("scaling-"+shape+"-"+c.what) + ".svg",
				SVG: template.HTML(lineChart(title, "nodes", c.unit, lines))})
		}
	}
	if err := writeCharts(dir, charts); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "scaling.json"), points); err != nil {
		return err
	}
	return writeWith(filepath.Join(dir, ScalingFile), func(w io.Writer) error {
		return scalingPage.Execute(w, struct {
			Table  string
			Charts []chart
		}{ScalingTable(points), charts})
	})
}

// ScalingTable prints every point: shape, profile, nodes, pods, and the
// median and interval of throughput, peak RSS and wall time.
func ScalingTable(points []ScalingPoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-10s %7s %8s %5s  %-24s %-24s %s\n", "shape", "profile", "nodes", "pods", "runs",
		"throughput (pods/s)", "peak RSS (MiB)", "wall (s)")
	iv := func(format string, in stats.Interval) string {
		return fmt.Sprintf(format+" ("+format+"–"+format+")", in.Median, in.Lo, in.Hi)
	}
	for _, p := range points {
		fmt.Fprintf(&b, "%-10s %-10s %7d %8d %5d  %-24s %-24s %s\n", p.Shape, p.Profile, p.Nodes, p.Pods, p.Runs,
			iv("%.0f", p.Throughput), iv("%.0f", p.PeakRSS), iv("%.0f", p.Wall))
	}
	return b.String()
}

var scalingPage = template.Must(template.New("scaling").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>placer-bench scaling</title>
<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}pre{font-size:12px}</style></head>
<body><h1>How throughput and memory grow with the cluster</h1>
<p>Each point is the median of one run directory's runs of a profile at that size (the interval in brackets: the range of the runs, or the median's confidence interval with enough runs; docs/report.md). Throughput covers the measured pods; peak RSS is the whole process: scheduler, backend and harness.</p>
<pre>{{.Table}}</pre>
{{range .Charts}}<figure>{{.SVG}}<figcaption>{{.Title}} ({{.File}})</figcaption></figure>
{{end}}
</body></html>
`))
