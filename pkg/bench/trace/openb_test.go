package trace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Small files in the published OpenB format, written by the tests: the
// real trace stays out of the repository.
const (
	testNodes = `sn,cpu_milli,memory_mib,gpu,model
n-0,64000,262144,2,P100
n-1,96000,393216,8,G2
n-2,32000,131072,0,nan
`
	testPods = `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
p-0,12000,16384,1,1000,,LS,Running,0,100,0
p-1,6000,12288,1,460,G2,LS,Running,10,,10
p-2,4000,8192,2,1000,P100|G2,BE,Running,20,30,20
p-3,2000,4096,0,0,,LS,Running,5,50,5
`
)

func writeFiles(t *testing.T, nodes, pods string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	n, p := filepath.Join(dir, "nodes.csv"), filepath.Join(dir, "pods.csv")
	if err := os.WriteFile(n, []byte(nodes), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(pods), 0o600); err != nil {
		t.Fatal(err)
	}
	return n, p
}

func TestReadOpenB(t *testing.T) {
	tr, err := ReadOpenB(writeFiles(t, testNodes, testPods))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "pods" || len(tr.Nodes) != 3 || len(tr.Pods) != 4 || !tr.HasTimes {
		t.Fatalf("trace %s: %d nodes, %d pods, times %v", tr.Name, len(tr.Nodes), len(tr.Pods), tr.HasTimes)
	}
	if got := tr.GPUCapacityMilli(); got != 10000 {
		t.Errorf("capacity %d milli, want 10000", got)
	}
	if n := tr.Nodes[2]; n.GPUModel != "" || n.GPUs != 0 {
		t.Errorf("CPU-only node %+v: want no GPU model", n)
	}
	p := tr.Pods[1]
	if !p.Sharing() || p.GPURequestMilli() != 460 || p.WholeGPUs() != 1 || p.Shape() != "share" || p.Departure != nil {
		t.Errorf("sharing pod %+v: request %d, shape %s", p, p.GPURequestMilli(), p.Shape())
	}
	if p := tr.Pods[2]; p.Shape() != "gpu-2" || p.GPURequestMilli() != 2000 || strings.Join(p.GPUModels, ",") != "P100,G2" || *p.Departure != 30 {
		t.Errorf("pod %+v", p)
	}
	if p := tr.Pods[3]; p.Shape() != "cpu-only" || p.GPURequestMilli() != 0 {
		t.Errorf("pod %+v", p)
	}
}

// The multigpu20 list has only the five request columns: it replays with
// the FGD protocol, and the timeline refuses it.
func TestReadOpenBWithoutTimes(t *testing.T) {
	tr, err := ReadOpenB(writeFiles(t, testNodes, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,1024,1,1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.HasTimes {
		t.Error("HasTimes without a creation_time column")
	}
	if _, err := Timeline(tr, 1); err == nil || !strings.Contains(err.Error(), "no creation times") {
		t.Errorf("timeline without times: %v", err)
	}
}

func TestReadOpenBRefusesBadInput(t *testing.T) {
	header := "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time\n"
	for _, tc := range []struct {
		name, nodes, pods string
		file              string // "nodes" or "pods"
		line              int
		column, value     string
		problem           string
	}{
		{"missing column", "sn,cpu_milli,gpu,model\nn,1,1,A\n", testPods, "nodes", 1, "memory_mib", "", "missing column"},
		{"non-numeric cell", testNodes, header + "p,12k,1024,1,1000,,0,\n", "pods", 2, "cpu_milli", "12k", "not a whole number"},
		{"negative request", testNodes, header + "p,1000,1024,1,1000,,0,\np2,1000,-5,0,0,,0,\n", "pods", 3, "memory_mib", "-5", "negative"},
		{"unknown GPU model", testNodes, header + "p,1000,1024,1,1000,A100,0,\n", "pods", 2, "gpu_spec", "A100", `unknown GPU model "A100"`},
		{"short row", testNodes, header + "p,1000,1024\n", "pods", 2, "num_gpu", "", "short row"},
		{"share above a GPU", testNodes, header + "p,1000,1024,1,1500,,0,\n", "pods", 2, "gpu_milli", "1500", "above the limit of 1000"},
		{"share of several GPUs", testNodes, header + "p,1000,1024,2,500,,0,\n", "pods", 2, "gpu_milli", "500", "only a pod with one GPU may share"},
		{"departure before arrival", testNodes, header + "p,1000,1024,1,1000,,50,10\n", "pods", 2, "deletion_time", "10", "before the pod's creation_time"},
		{"node named twice", testNodes + "n-0,1,1,1,G2\n", testPods, "nodes", 5, "sn", "n-0", "node named twice"},
		{"huge GPU count", "sn,cpu_milli,memory_mib,gpu,model\nn,1,1,99999999999,G2\n", testPods, "nodes", 2, "gpu", "99999999999", "above the limit"},
		{"empty pod list", testNodes, header, "pods", 0, "", "", "no pods"},
		{"bad quoting", testNodes, header + "p,\"1000,1024,1,1000,,0,\n", "pods", 2, "", "", "quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, pods := writeFiles(t, tc.nodes, tc.pods)
			_, err := ReadOpenB(nodes, pods)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an InputError", err)
			}
			wantFile := pods
			if tc.file == "nodes" {
				wantFile = nodes
			}
			if ie.File != wantFile || ie.Line != tc.line || ie.Column != tc.column || ie.Value != tc.value || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("got %q (file %s line %d column %q value %q), want %s line %d column %q value %q: %s",
					err, ie.File, ie.Line, ie.Column, ie.Value, tc.file, tc.line, tc.column, tc.value, tc.problem)
			}
			if !strings.HasPrefix(err.Error(), wantFile) {
				t.Errorf("%q does not start with the file's name", err)
			}
		})
	}
}

func TestReadOpenBMissingFile(t *testing.T) {
	_, err := ReadOpenB(filepath.Join(t.TempDir(), "none.csv"), "x.csv")
	if err == nil || !strings.Contains(err.Error(), "none.csv") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}
