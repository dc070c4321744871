package trace

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// An OpenB trace converted to the neutral format reads back the same.
func TestJSONLRoundTrip(t *testing.T) {
	tr, err := ReadOpenB(writeFiles(t, testNodes, testPods))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, tr); err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSONL("t.jsonl", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tr) {
		t.Errorf("read back\n%+v\nwant\n%+v", back, tr)
	}
}

func TestParseJSONL(t *testing.T) {
	in := `{"kind":"node","name":"a","cpuMilli":8000,"memoryMiB":32768,"gpus":4,"gpuModel":"T4","labels":{"topology.kubernetes.io/zone":"z1"}}

{"kind":"pod","name":"p","owner":"job-1","cpuMilli":1000,"memoryMiB":1024,"gpus":1,"arrival":3,"nodeSelector":{"topology.kubernetes.io/zone":"z1"}}
`
	tr, err := ParseJSONL("t.jsonl", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// A whole-GPU pod may leave gpuMilli out; there is no header.
	if p := tr.Pods[0]; p.GPUMilli != 1000 || p.Sharing() || p.Owner != "job-1" || tr.Name != "" {
		t.Errorf("pod %+v", p)
	}
}

func TestParseJSONLRefusesBadInput(t *testing.T) {
	node := `{"kind":"node","name":"a","cpuMilli":8000,"memoryMiB":32768,"gpus":4,"gpuModel":"T4"}` + "\n"
	for _, tc := range []struct {
		name, in      string
		line          int
		column, value string
		problem       string
	}{
		{"not JSON", node + "{\"kind\":\n", 2, "", "", "unexpected end"},
		{"unknown kind", node + `{"kind":"job"}`, 2, "kind", "job", "want"},
		{"unknown field", node + `{"kind":"pod","name":"p","cpu":1}`, 2, "", "", `unknown field "cpu"`},
		{"string for a number", node + `{"kind":"pod","name":"p","cpuMilli":"1"}`, 2, "cpuMilli", "string", "want int64"},
		{"negative request", node + `{"kind":"pod","name":"p","memoryMiB":-1}`, 2, "memoryMiB", "-1", "want 0 to"},
		{"unknown GPU model", node + `{"kind":"pod","name":"p","gpus":1,"gpuModels":["A100"]}`, 2, "gpuModels", "A100", "unknown GPU model"},
		{"bad name", node + `{"kind":"pod","name":"P_1"}`, 2, "name", "P_1", "Kubernetes name"},
		{"bad selector", node + `{"kind":"pod","name":"p","nodeSelector":{"zone":"a b"}}`, 2, "nodeSelector.zone", "a b", "label value"},
		{"departure before arrival", node + `{"kind":"pod","name":"p","arrival":5,"departure":1}`, 2, "departure", "1", "before the pod's arrival"},
		{"wrong version", `{"kind":"trace","version":"v0"}`, 1, "version", "v0", "want " + FormatVersion},
		{"no pods", node, 0, "", "", "no \"pod\" records"},
		{"line too long", node + strings.Repeat(" ", MaxLineBytes+1), 2, "", "", "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSONL("t.jsonl", strings.NewReader(tc.in))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an InputError", err)
			}
			if ie.File != "t.jsonl" || ie.Line != tc.line || ie.Column != tc.column || ie.Value != tc.value || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("got %q (line %d column %q value %q), want line %d column %q value %q: %s", err, ie.Line, ie.Column, ie.Value, tc.line, tc.column, tc.value, tc.problem)
			}
		})
	}
}
