package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/explanation"
)

// PageFile is the self-contained HTML report; the charts are also written
// as SVG files beside it, for READMEs.
const PageFile = "report.html"

// Read loads a run directory's report.json.
func Read(dir string) (*Report, error) {
	data, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ReportFile), err)
	}
	switch r.APIVersion {
	case SchemaVersion:
	case schemaV1alpha1:
		// Each profile ran once.
		r.Runs, r.Comparison = nil, nil
	default:
		return nil, fmt.Errorf("%s: apiVersion %q, this placer-bench reads %q and %q", filepath.Join(dir, ReportFile), r.APIVersion, SchemaVersion, schemaV1alpha1)
	}
	if r.Comparison == nil {
		r.Summarize()
	}
	return &r, nil
}

// chart is one chart of the page, also written to File.
type chart struct {
	Title string
	File  string
	SVG   template.HTML
}

// Charts draws a report's charts: throughput over time, latency CDF,
// per-plugin time, and a cpu heat map per profile.
func Charts(r *Report) []chart {
	var names []string
	var tput, cdf []series
	for _, p := range r.Profiles {
		names = append(names, p.Profile)
		t := series{name: p.Profile}
		for i, v := range p.ThroughputTimeline {
			t.points = append(t.points, [2]float64{float64(i), v})
		}
		tput = append(tput, t)
		c := series{name: p.Profile}
		for i, v := range p.LatencyCDF {
			c.points = append(c.points, [2]float64{v, float64(i)})
		}
		cdf = append(cdf, c)
	}
	charts := []chart{
		{Title: "Throughput over time", File: "throughput.svg",
			SVG: template.HTML(lineChart("Throughput over time", "seconds since the first measured pod", "pods bound per second", tput))},
		{Title: "Latency CDF", File: "latency-cdf.svg",
			SVG: template.HTML(lineChart("Creation to bound latency, CDF", "seconds", "percent of measured pods", cdf))},
	}
	if c, ok := traceChart(r); ok {
		charts = append([]chart{c}, charts...)
	}
	plugins, values := pluginTime(r.Profiles)
	if len(plugins) > 0 {
		charts = append(charts, chart{Title: "Time per plugin", File: "plugins.svg",
			SVG: template.HTML(barChart("Time in each plugin (sampled cycles, all extension points)", "ms", plugins, names, values))})
	}
	for _, p := range r.Profiles {
		if len(p.Quality.Packing.PerNode) == 0 {
			continue
		}
		title := fmt.Sprintf("cpu requested per node, by zone: %s", p.Profile)
		charts = append(charts, chart{Title: title, File: "heatmap-cpu-" + fileSafe(p.Profile) + ".svg",
			SVG: template.HTML(heatMap(title, p.Quality.Packing.PerNode, func(n result.NodeUsage) float64 { return n.CPU }))})
	}
	return charts
}

// pluginTime sums each plugin's sampled execution time (average × count
// over its extension points) per profile, for the plugins with the most.
func pluginTime(profiles []*result.Result) ([]string, [][]float64) {
	const top = 15
	totals := make([]map[string]float64, len(profiles))
	best := map[string]float64{}
	for i, p := range profiles {
		totals[i] = map[string]float64{}
		for _, h := range p.Scheduler {
			if h.Metric != "scheduler_plugin_execution_duration_seconds" {
				continue
			}
			v := h.AvgMs * float64(h.Count)
			totals[i][h.Labels["plugin"]] += v
		}
		for name, v := range totals[i] {
			best[name] = max(best[name], v)
		}
	}
	var names []string
	for n := range best {
		names = append(names, n)
	}
	sort.Slice(names, func(a, b int) bool {
		if best[names[a]] != best[names[b]] {
			return best[names[a]] > best[names[b]]
		}
		return names[a] < names[b]
	})
	if len(names) > top {
		names = names[:top]
	}
	values := make([][]float64, len(profiles))
	for i := range profiles {
		for _, n := range names {
			values[i] = append(values[i], totals[i][n])
		}
	}
	return names, values
}

func fileSafe(s string) string { return benchNameUnsafe.ReplaceAllString(s, "_") }

// pageExplained is how many explained pods report.html shows.
const pageExplained = 5

var page = template.Must(template.New("page").Funcs(template.FuncMap{"explain": explainText}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>placer-bench: {{.R.Workload}}</title>
<style>
body { font-family: sans-serif; margin: 2em; max-width: 80em; color: #222; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 12px; }
figure { margin: 1.5em 0; } figcaption { color: #555; font-size: 13px; }
td, th { padding: 0.2em 0.8em; text-align: left; }
</style></head><body>
<h1>placer-bench: {{.R.Workload}}</h1>
<table>
<tr><th>file</th><td>{{.R.File}}</td></tr>
<tr><th>backend</th><td>{{.R.Backend}}</td></tr>
<tr><th>run</th><td>{{.R.RunID}}, started {{.R.Started.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><th>params</th><td>{{range $k, $v := .R.Params}}{{$k}}={{$v}} {{end}}</td></tr>
</table>
<h2>Side by side</h2>
<p>Speed, then placement quality (defined in docs/quality.md): each figure is the median of {{.R.Count}} run(s) per profile with its interval, each later profile's followed by its ratio to the first's; docs/report.md says how to read them. Charts show each profile's median-throughput run.</p>
<pre>{{.Table}}</pre>
{{range .Charts}}<figure>{{.SVG}}<figcaption>{{.Title}} ({{.File}})</figcaption></figure>
{{end}}{{with .Explained}}
<h2 id="explained">Explained placements</h2>
<p>The same pods under each profile, from the Explain plugin (placer-bench run --explain; pkg/plugins/explain/README.md): the chosen node's score per plugin (raw × weight), the next best nodes, and how many nodes each filter turned away. <code>placer-bench explain DIR POD</code> prints any explained pod.</p>
<table><tr><th>pod</th>{{range (index . 0).Profiles}}<th>{{.}}</th>{{end}}</tr>
{{range $i, $e := .}}<tr><td><a href="#explain-{{$i}}">{{$e.ID}}</a></td>{{range $e.Explanations}}<td>{{if not .}}not explained{{else if .Node}}{{.Node}}{{with .Chosen}} ({{.Total}}){{end}}{{else}}unschedulable{{end}}</td>{{end}}</tr>
{{end}}</table>
{{range $i, $e := .}}<h3 id="explain-{{$i}}">{{$e.ID}}</h3>
<div style="display: flex; gap: 1em;">{{range $j, $x := $e.Explanations}}<pre style="flex: 1;">{{index $e.Profiles $j}}
{{with $x}}{{explain .}}{{else}}not explained in this profile's run{{end}}</pre>{{end}}</div>
{{end}}{{end}}
</body></html>
`))

// writeCharts writes each chart's SVG into dir under its file name.
func writeCharts(dir string, charts []chart) error {
	for _, c := range charts {
		svg := string(c.SVG)
		if err := writeWith(filepath.Join(dir, c.File), func(w io.Writer) error {
			_, err := io.WriteString(w, svg)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// WritePage writes report.html and the charts as SVG files into dir.
func WritePage(dir string, r *Report) error {
	charts := Charts(r)
	if err := writeCharts(dir, charts); err != nil {
		return err
	}
	var table strings.Builder
	result.PrintTable(&table, r.Comparison)
	explained := ExplainedPods(r)
	explained = explained[:min(len(explained), pageExplained)]
	return writeWith(filepath.Join(dir, PageFile), func(w io.Writer) error {
		return page.Execute(w, struct {
			R         *Report
			Table     string
			Charts    []chart
			Explained []Explained
		}{r, table.String(), charts, explained})
	})
}

func explainText(e *explanation.Explanation) string {
	var b strings.Builder
	e.Print(&b)
	return b.String()
}
