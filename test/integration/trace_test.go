package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// The tests write small traces in Alibaba's OpenB format: the real trace
// stays out of the repository.

// openbNodes: two 8-GPU G2 nodes, two 2-GPU T4 nodes, one CPU-only node
// (model "nan", as the published all-node list writes it): 20 GPUs.
const openbNodes = `sn,cpu_milli,memory_mib,gpu,model
g2-0,96000,393216,8,G2
g2-1,96000,393216,8,G2
t4-0,32000,131072,2,T4
t4-1,32000,131072,2,T4
cpu-0,64000,262144,0,nan
`

// openbPods: every shape of the trace: whole GPUs, GPU-sharing pods, a
// multi-GPU pod, CPU-only pods, and pods that accept only T4.
func openbPods() string {
	var b strings.Builder
	b.WriteString("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n")
	for i := range 12 {
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, "whole-%d,4000,16384,1,1000,,LS,Running,%d,%d,%d\n", i, i*10, i*10+45, i*10)
		case 1:
			fmt.Fprintf(&b, "share-%d,2000,8192,1,%d,,LS,Running,%d,,%d\n", i, 200+i*50, i*10, i*10)
		case 2:
			fmt.Fprintf(&b, "multi-%d,16000,65536,4,1000,,BE,Running,%d,%d,%d\n", i, i*10, i*10+25, i*10)
		case 3:
			fmt.Fprintf(&b, "cpu-%d,8000,32768,0,0,,LS,Running,%d,%d,%d\n", i, i*10, i*10+30, i*10)
		case 4:
			fmt.Fprintf(&b, "t4only-%d,4000,16384,1,1000,T4,LS,Running,%d,%d,%d\n", i, i*10, i*10+60, i*10)
		case 5:
			fmt.Fprintf(&b, "either-%d,4000,16384,2,1000,T4|G2,LS,Running,%d,%d,%d\n", i, i*10, i*10+15, i*10)
		}
	}
	return b.String()
}

const traceGPUs = 20

// traceReport is what these tests read of a replay's report.json.
type traceReport struct {
	Count      int          `json:"count"`
	Runs       [][]traceRun `json:"runs"`
	Profiles   []traceRun   `json:"profiles"`
	Comparison []struct {
		Name     string `json:"name"`
		Profiles []struct {
			Profile  string `json:"profile"`
			Interval struct {
				N      int     `json:"n"`
				Median float64 `json:"median"`
			} `json:"interval"`
		} `json:"profiles"`
	} `json:"comparison"`
}

type traceRun struct {
	Profile string             `json:"profile"`
	PID     int                `json:"pid"`
	Trace   result.TraceResult `json:"trace"`
}

func writeTrace(t *testing.T, dir, nodes, pods string) (nodesFile, podsFile string) {
	t.Helper()
	nodesFile, podsFile = filepath.Join(dir, "nodes.csv"), filepath.Join(dir, "pods.csv")
	for f, text := range map[string]string{nodesFile: nodes, podsFile: pods} {
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return nodesFile, podsFile
}

// TestBenchTraceOpenB replays a generated OpenB trace with the FGD
// protocol as a user would: three seeds, two profiles, each seed one run
// of each profile in a process of its own. The curve must be the paper's
// metric, recomputable from the placements export.
func TestBenchTraceOpenB(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	dir := t.TempDir()
	nodes, pods := writeTrace(t, dir, openbNodes, openbPods())
	out := filepath.Join(dir, "out")
	text := runBench(t, bin, "trace", "openb", "--nodes", nodes, "--pods", pods, "--seed", "1-3", "--target", "130",
		"--profile", "default", "--profile", "examples/bench/profiles/mostallocated-gpu.yaml",
		"--log-file", filepath.Join(dir, "bench.log"), "--out", out)
	for _, want := range []string{"unallocated GPU at 90% arrived (%)", "unallocated GPU at 130% arrived (%)", "GPU-sharing pods (offered: whole GPU)", "placed, share", "Medians of 3 runs per profile", "--gpu-sharing whole"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	rep := readReport[traceReport](t, out)
	if rep.Count != 3 || len(rep.Runs) != 2 {
		t.Fatalf("count %d, %d profiles; want 3 runs of 2 profiles", rep.Count, len(rep.Runs))
	}
	pids := map[int]bool{}
	for i, runs := range rep.Runs {
		if len(runs) != 3 {
			t.Fatalf("profile %d: %d runs, want one per seed", i, len(runs))
		}
		for j, run := range runs {
			tr := run.Trace
			if pids[run.PID] {
				t.Errorf("pid %d made two runs", run.PID)
			}
			pids[run.PID] = true
			if tr.Protocol != "fgd" || tr.Seed == nil || *tr.Seed != int64(j+1) || tr.GPUSharing != "whole" || tr.GPUCapacityMilli != traceGPUs*1000 {
				t.Errorf("%s run %d: %+v", run.Profile, j, tr)
			}
			// The same seed offers the same pods to every profile.
			if other := rep.Runs[0][j].Trace; tr.PodsOffered != other.PodsOffered || tr.SharingPods != other.SharingPods {
				t.Errorf("seed %d: %s offered %d pods, %s %d", j+1, run.Profile, tr.PodsOffered, rep.Runs[0][j].Profile, other.PodsOffered)
			}
			if len(tr.ArrivedPercent) != tr.PodsOffered || len(tr.UnallocatedPercent) != tr.PodsOffered {
				t.Fatalf("%s run %d: curve of %d/%d points for %d pods", run.Profile, j, len(tr.ArrivedPercent), len(tr.UnallocatedPercent), tr.PodsOffered)
			}
			decided := 0
			for _, n := range tr.Placed {
				decided += n
			}
			for _, n := range tr.Failed {
				decided += n
			}
			if decided != tr.PodsOffered {
				t.Errorf("%s run %d: %d placed or failed of %d offered", run.Profile, j, decided, tr.PodsOffered)
			}
			for k := range tr.ArrivedPercent {
				if k > 0 && tr.ArrivedPercent[k] < tr.ArrivedPercent[k-1] {
					t.Errorf("arrived workload fell at pod %d", k)
				}
				if u := tr.UnallocatedPercent[k]; u < 0 || u > 100 {
					t.Errorf("unallocated %g%% at pod %d", u, k)
				}
			}
			if last := tr.ArrivedPercent[len(tr.ArrivedPercent)-1]; last < 130 {
				t.Errorf("arrived stopped at %g%%, want the target 130%%", last)
			}
			for _, level := range []string{"90", "100", "110", "130"} {
				if _, ok := tr.UnallocatedGPUAt[level]; !ok {
					t.Errorf("%s run %d: no unallocatedGPU at %s%%", run.Profile, j, level)
				}
			}
		}
	}
	// The last point of each profile's representative run is recomputed
	// from its placements export: the GPU the bound pods asked for (a
	// sharing pod its share, from the generated trace), every T4-only pod
	// on a T4 node, and no more GPUs bound than the cluster has.
	for i, profile := range []string{"default", "mostallocated-gpu"} {
		f, err := os.Open(filepath.Join(out, "placements-"+profile+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var devices, allocatedMilli int64
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var p struct {
				Name     string            `json:"name"`
				Node     string            `json:"node"`
				Deleted  bool              `json:"deleted"`
				Requests map[string]string `json:"requests"`
			}
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Node == "" || p.Deleted {
				continue
			}
			var g int64
			fmt.Sscan(p.Requests["nvidia.com/gpu"], &g)
			devices += g
			var traceIndex, drawn int
			if _, err := fmt.Sscanf(p.Name, "share-%d-%d", &traceIndex, &drawn); err == nil {
				allocatedMilli += int64(200 + traceIndex*50)
			} else {
				allocatedMilli += g * 1000
			}
			if strings.HasPrefix(p.Name, "t4only-") && !strings.HasPrefix(p.Node, "t4-") {
				t.Errorf("%s: pod %s accepts only T4, placed on %s", profile, p.Name, p.Node)
			}
		}
		f.Close()
		if devices > traceGPUs {
			t.Errorf("%s: %d GPUs bound of %d", profile, devices, traceGPUs)
		}
		tr := rep.Profiles[i].Trace
		last := tr.UnallocatedPercent[len(tr.UnallocatedPercent)-1]
		want := 100 - 100*float64(allocatedMilli)/(traceGPUs*1000)
		if d := last - want; d > 0.001 || d < -0.001 {
			t.Errorf("%s: the curve ends at %g%% unallocated; the placements say %g%%", profile, last, want)
		}
	}
	found := false
	for _, f := range rep.Comparison {
		if f.Name == "unallocated GPU at 130% arrived (%)" {
			found = true
			for _, p := range f.Profiles {
				if p.Interval.N != 3 {
					t.Errorf("%s: median over %d runs, want the 3 seeds", p.Profile, p.Interval.N)
				}
			}
		}
	}
	if !found {
		t.Error("report.json's comparison lacks unallocated GPU at 130% arrived")
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(page), "Unallocated GPU vs arrived workload") {
		t.Errorf("report.html lacks the FGD figure (%v)", err)
	}
}

// TestBenchTraceFile converts the OpenB files into the neutral format and
// replays that file, with the FGD protocol and on the trace's own timeline
// (pods departing), as docs/traces.md tells users to.
func TestBenchTraceFile(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	dir := t.TempDir()
	nodes, pods := writeTrace(t, dir, openbNodes, openbPods())
	neutral := filepath.Join(dir, "trace.jsonl")
	runBench(t, bin, "trace", "openb", "--nodes", nodes, "--pods", pods, "--convert", neutral)
	data, err := os.ReadFile(neutral)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"kind":"node"`); n != 5 {
		t.Errorf("%d node records, want 5", n)
	}
	if n := strings.Count(string(data), `"kind":"pod"`); n != 12 {
		t.Errorf("%d pod records, want 12", n)
	}

	fgd := filepath.Join(dir, "fgd")
	runBench(t, bin, "trace", "file", neutral, "--seed", "7", "--profile", "default", "--log-file", "", "--out", fgd)
	if rep := readReport[traceReport](t, fgd); *rep.Runs[0][0].Trace.Seed != 7 || rep.Runs[0][0].Trace.PodsOffered == 0 {
		t.Errorf("fgd replay of the neutral file: %+v", rep.Runs[0][0].Trace)
	}

	// Times divided by 100: the 12 pods arrive over 1.1 s, most departing
	// within a second of arriving.
	timeline := filepath.Join(dir, "timeline")
	// The file may also follow the flags.
	text := runBench(t, bin, "trace", "file", "--protocol", "timeline", "--speed", "100", "--profile", "default", "--log-file", "", "--out", timeline, neutral)
	tr := readReport[traceReport](t, timeline).Runs[0][0].Trace
	if tr.Protocol != "timeline" || tr.PodsOffered != 12 || len(tr.ArrivedPercent) != 12 {
		t.Fatalf("timeline replay: %+v\n%s", tr, text)
	}
	placed := 0
	for _, n := range tr.Placed {
		placed += n
	}
	// 20 GPUs; at most 6 whole GPUs, 2 sharing pods, one 4-GPU and two
	// 2-GPU pods live at once: everything fits.
	if placed != 12 {
		t.Errorf("timeline: %d of 12 pods placed (%v, failed %v)", placed, tr.Placed, tr.Failed)
	}
}

// TestBenchTraceBadInput: a bad trace or flag is refused before anything
// runs, naming the file, line, column and value.
func TestBenchTraceBadInput(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	header := "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
	good := header + "p-0,1000,1024,1,1000,,LS,Running,0,10,0\n"
	for _, tc := range []struct {
		name, nodes, pods string
		flags             []string
		want              []string
	}{
		{"non-numeric cell", openbNodes, header + "p-0,1000,1Gi,1,1000,,LS,Running,0,10,0\n", nil,
			[]string{"pods.csv:2: column memory_mib: value \"1Gi\": not a whole number"}},
		{"negative request", openbNodes, header + "p-0,-1000,1024,1,1000,,LS,Running,0,10,0\n", nil,
			[]string{"pods.csv:2: column cpu_milli: value \"-1000\": negative"}},
		{"unknown GPU model", openbNodes, header + "p-0,1000,1024,1,1000,A100,LS,Running,0,10,0\n", nil,
			[]string{"pods.csv:2: column gpu_spec: value \"A100\": unknown GPU model \"A100\": the nodes have G2, T4"}},
		{"missing column", "sn,cpu_milli,gpu,model\nn,1,1,G2\n", good, nil,
			[]string{"nodes.csv:1: column memory_mib", "missing column"}},
		{"short row", openbNodes, header + "p-0,1000,1024\n", nil,
			[]string{"pods.csv:2: column num_gpu", "short row: 3 cells, the header has 11"}},
		{"seed range backwards", openbNodes, good, []string{"--seed", "9-3"}, []string{`--seed "9-3"`}},
		{"timeline without speed", openbNodes, good, []string{"--protocol", "timeline"}, []string{"needs --speed"}},
		{"speed with fgd", openbNodes, good, []string{"--speed", "10"}, []string{"--speed is for --protocol timeline"}},
		{"target out of range", openbNodes, good, []string{"--target", "0"}, []string{"--target 0: want 1 to 1000"}},
		{"real cluster", openbNodes, good, []string{"--backend", "kubeconfig"}, []string{`--backend "kubeconfig": want memory or embedded`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			nodes, pods := writeTrace(t, dir, tc.nodes, tc.pods)
			out := filepath.Join(dir, "out")
			args := append([]string{"trace", "openb", "--nodes", nodes, "--pods", pods, "--out", out, "--log-file", ""}, tc.flags...)
			cmd := benchCommand(bin, args...)
			text, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 2 {
				t.Fatalf("exit %d (%v), want 2:\n%s", code, err, text)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(text), want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists: something ran", out)
			}
		})
	}
}
