package trace

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The readers must answer any input with a trace or an InputError naming
// the file, never a panic; a trace they accept must hold only what the
// checks allow. `go test -fuzz FuzzOpenBPods ./pkg/bench/trace` explores
// further; the seeds below run in every `go test`.

func FuzzOpenBNodes(f *testing.F) {
	f.Add(testNodes)
	f.Add("sn,cpu_milli,memory_mib,gpu,model\nn,1,1,1\n")
	f.Add("sn,cpu_milli,memory_mib,gpu,model\nn,\"1,1,1,G2\n")
	f.Fuzz(func(t *testing.T, in string) {
		nodes, err := ParseOpenBNodes("n.csv", strings.NewReader(in))
		checkError(t, err, "n.csv")
		for _, n := range nodes {
			if !validName(n.Name) || n.CPUMilli < 0 || n.MemoryMiB < 0 || n.GPUs < 0 || n.GPUs > MaxGPUs {
				t.Fatalf("accepted node %+v", n)
			}
		}
	})
}

func FuzzOpenBPods(f *testing.F) {
	f.Add(testPods)
	f.Add("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1,1e3\n")
	f.Add("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time\np,1,1,1,500,G2|,1,NaN\n")
	models := map[string]bool{"G2": true, "P100": true}
	f.Fuzz(func(t *testing.T, in string) {
		pods, err := ParseOpenBPods("p.csv", strings.NewReader(in), models)
		checkError(t, err, "p.csv")
		for _, p := range pods {
			checkPodAccepted(t, p, models)
		}
	})
}

func FuzzJSONL(f *testing.F) {
	var buf bytes.Buffer
	tr, err := ParseJSONL("seed", strings.NewReader(`{"kind":"node","name":"a","gpus":2,"gpuModel":"G2"}
{"kind":"pod","name":"p","gpus":1,"gpuMilli":300,"gpuModels":["G2"],"arrival":1,"departure":2}`))
	if err != nil {
		f.Fatal(err)
	}
	if err := WriteJSONL(&buf, tr); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.String())
	f.Add(`{"kind":"pod","name":"p","departure":-1e400}`)
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ParseJSONL("t.jsonl", strings.NewReader(in))
		checkError(t, err, "t.jsonl")
		if tr == nil {
			return
		}
		models := nodeModels(tr.Nodes)
		for _, p := range tr.Pods {
			checkPodAccepted(t, p, models)
		}
	})
}

func checkError(t *testing.T, err error, file string) {
	t.Helper()
	if err == nil {
		return
	}
	var ie *InputError
	if !errors.As(err, &ie) || ie.File != file || !strings.HasPrefix(err.Error(), file) {
		t.Fatalf("error %q does not name %s as an InputError", err, file)
	}
}

func checkPodAccepted(t *testing.T, p Pod, models map[string]bool) {
	t.Helper()
	if !validName(p.Name) || p.CPUMilli < 0 || p.MemoryMiB < 0 || p.GPUs < 0 || p.GPUs > MaxGPUs ||
		p.GPUMilli < 0 || p.GPUMilli > MilliPerGPU || !validTime(p.Arrival) ||
		(p.Departure != nil && (!validTime(*p.Departure) || *p.Departure < p.Arrival)) {
		t.Fatalf("accepted pod %+v", p)
	}
	if r := p.GPURequestMilli(); r < 0 || r > MaxGPUs*MilliPerGPU {
		t.Fatalf("pod %+v asks for %d milli-GPU", p, r)
	}
	for _, m := range p.GPUModels {
		if !models[m] {
			t.Fatalf("pod %+v names model %q no node has", p, m)
		}
	}
}
