package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// fuzzCeiling keeps the object ceiling fixed whatever the machine, so that
// a failing input reproduces anywhere.
const fuzzCeiling = 250_000

// FuzzParse: the reader answers any input with a valid file or an error,
// never a panic. What it accepts holds only what the checks allow — every
// count within an int32, the totals under the ceiling — and reads back the
// same once written out, so that nothing was taken by a silent default
// that writing makes visible. `go test -fuzz FuzzParse ./pkg/bench/workload`
// explores further (make fuzz); the seeds run in every `go test`.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	files, err := filepath.Glob("../../../examples/bench/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no examples to seed with: %v", err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: bench.placer.dev/v1alpha1\nkind: Workload\nname: x\ncluster: {zones: 1, nodeGroups: [{name: g, count: 9999999999, capacity: {cpu: 1, memory: 1}}]}\nops: [{op: createNodes}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseWithCeiling(data, nil, fuzzCeiling)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		for path, c := range file.counts() {
			if c.Value < 0 || c.Value > limits.MaxCount {
				t.Fatalf("accepted %s = %d", path, c.Value)
			}
		}
		if total := file.Objects(); total.Objects() > fuzzCeiling {
			t.Fatalf("accepted %d nodes and %d pods over the ceiling of %d", total.Nodes, total.Pods, fuzzCeiling)
		}
		out, err := json.Marshal(file)
		if err != nil {
			t.Fatalf("an accepted file does not marshal: %v", err)
		}
		again, err := ParseWithCeiling(out, nil, fuzzCeiling)
		if err != nil {
			t.Fatalf("an accepted file, written out, is refused: %v\n%s", err, out)
		}
		out2, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(out2) {
			t.Fatalf("an accepted file reads back differently:\n%s\n%s", out, out2)
		}
	})
}
