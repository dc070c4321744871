package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
)

// sized is a report of one shape at one size: each profile's single run
// with the throughput given, the nodes and 10 pods a node.
func sized(t *testing.T, shape string, nodes int, throughput map[string]float64) *Report {
	t.Helper()
	r := &Report{Workload: shape, Count: 1}
	for _, p := range []string{"default", "placer"} {
		res := &result.Result{Profile: p, Pods: 10 * nodes, Throughput: stats.Summary{Average: throughput[p]},
			PeakRSS: uint64(nodes) << 20, Wall: time.Duration(nodes) * time.Millisecond}
		res.Quality.Packing.Nodes = nodes
		r.Runs = append(r.Runs, []*result.Result{res})
	}
	r.Summarize()
	return r
}

// The points come out by shape, profile and node count whatever order the
// directories are given in, and the page, its charts and scaling.json are
// written; a report without nodes is refused, naming its directory.
func TestScaling(t *testing.T) {
	big := sized(t, "basic", 5000, map[string]float64{"default": 400, "placer": 420})
	small := sized(t, "basic", 1000, map[string]float64{"default": 700, "placer": 650})
	points, err := ScalingPoints([]string{"big", "small"}, []*Report{big, small})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range points {
		got = append(got, fmt.Sprintf("%s@%s:%g", p.Profile, p.Dir, p.Throughput.Median))
	}
	want := []string{"default@small:700", "default@big:400", "placer@small:650", "placer@big:420"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("points %v, want %v", got, want)
	}
	if p := points[1]; p.Nodes != 5000 || p.Pods != 50000 || p.PeakRSS.Median != 5000 || p.Wall.Median != 5 {
		t.Errorf("point %+v: want 5000 nodes, 50000 pods, 5000 MiB, 5 s", p)
	}
	dir := t.TempDir()
	if err := WriteScaling(dir, points); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ScalingFile, "scaling.json", "scaling-basic-throughput.svg", "scaling-basic-peak-rss.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	empty := sized(t, "basic", 0, nil)
	if _, err := ScalingPoints([]string{"empty-dir"}, []*Report{empty}); err == nil || !strings.Contains(err.Error(), "empty-dir: profile default's run judged no nodes") {
		t.Errorf("a report without nodes: %v", err)
	}
}
