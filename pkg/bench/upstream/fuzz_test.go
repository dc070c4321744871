package upstream

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/placer-dev/placer/internal/testfile"
	"github.com/placer-dev/placer/pkg/bench/limits"
)

// fuzzCeiling is a small object ceiling, so that an input that plans does
// so quickly whatever its counts.
const fuzzCeiling = 1000

// FuzzConfig: the reader answers any input with test cases or an error
// naming the file, never a panic; and so does planning them. A plan holds
// only counts within an int32 and objects under the ceiling. Seeds: every
// test case of the performance-config.yaml files k8s.io/kubernetes ships,
// one seed each, and this repository's own. `go test -fuzz FuzzConfig
// ./pkg/bench/upstream` explores further (make fuzz); the seeds run in
// every `go test`.
func FuzzConfig(f *testing.F) {
	root := testfile.SchedulerPerfDir(f)
	files, err := filepath.Glob(filepath.Join(root, "*", "performance-config.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no upstream configurations under %s: %v", root, err)
	}
	files = append(files, "../../../test/perf/config/performance-config.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range splitCases(data) {
			f.Add(c)
		}
	}
	f.Add([]byte(basicConfig))
	// Templates resolve against a topic directory of scheduler_perf, where
	// the seeds' "../templates/..." paths exist.
	dir := filepath.Join(root, "misc")
	f.Fuzz(func(t *testing.T, data []byte) {
		file := &File{Path: "fuzz.yaml", Dir: dir}
		if err := file.parse(data); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		if len(file.Cases) == 0 {
			t.Fatal("accepted a file without test cases")
		}
		// A template path is read as given: keep the fuzzer away from
		// device and kernel files, which would be the user's own doing.
		for _, special := range []string{"/dev", "/proc", "/sys"} {
			if bytes.Contains(data, []byte(special)) {
				return
			}
		}
		planned := 0
		for _, tc := range file.Cases {
			if len(tc.Template) == 0 || len(tc.Workloads) == 0 || tc.Name == "" {
				t.Fatalf("accepted test case %+v", tc)
			}
			p, err := file.PlanWithCeiling(tc, tc.Workloads[0], nil, fuzzCeiling)
			if err != nil {
				continue
			}
			for _, s := range p.Steps {
				if s.Count < 0 || s.Count > limits.MaxCount {
					t.Fatalf("planned %s at line %d with count %d", s.Code, s.Line, s.Count)
				}
			}
			if total := p.objects(nil); total.Objects() > fuzzCeiling {
				t.Fatalf("planned %d nodes and %d other objects over the ceiling of %d", total.Nodes, total.Pods, fuzzCeiling)
			}
			// Planning is the expensive part: a few cases an input.
			if planned++; planned == 3 {
				break
			}
		}
	})
}

// splitCases cuts a performance-config.yaml into its test cases, one YAML
// list of one case each: small seeds mutate into more varied inputs than
// whole files.
func splitCases(data []byte) [][]byte {
	var out [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("- ")) && len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, line...)
	}
	if len(bytes.TrimSpace(cur)) > 0 {
		out = append(out, cur)
	}
	return out
}
