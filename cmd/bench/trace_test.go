package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/placer-dev/placer/internal/testfile"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// A small generated trace in Alibaba's OpenB format (the real one stays out
// of the repository): two 4-GPU nodes and a CPU-only one, ample cpu and
// memory, so that only GPUs decide; half the pods share a GPU.
const shareNodes = `sn,cpu_milli,memory_mib,gpu,model
gpu-0,256000,1048576,4,G2
gpu-1,256000,1048576,4,G2
cpu-0,256000,1048576,0,nan
`

const shareGPUs = 8

func sharePods() string {
	var b strings.Builder
	b.WriteString("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n")
	for i := range 8 {
		if i%2 == 0 {
			fmt.Fprintf(&b, "whole-%d,1000,1024,1,1000,,LS,Running,%d,,%d\n", i, i, i)
		} else {
			fmt.Fprintf(&b, "share-%d,1000,1024,1,%d,,LS,Running,%d,,%d\n", i, 100*i, i, i)
		}
	}
	return b.String()
}

// outputOf runs f with os.Stdout and os.Stderr captured.
func outputOf(t *testing.T, f func() int) (code int, stdout, stderr string) {
	t.Helper()
	savedOut := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	code, stderr = stderrOf(t, f)
	os.Stdout = savedOut
	w.Close()
	return code, <-done, stderr
}

// --gpu-sharing takes whole or share; anything else is refused before the
// trace is read, naming the flag, the value and the choices.
func TestTraceRefusesUnknownGPUSharing(t *testing.T) {
	dir := t.TempDir()
	// Unread: the value is refused first.
	missing := filepath.Join(dir, "missing.csv")
	args := []string{"openb", "--nodes", missing, "--pods", missing, "--gpu-sharing", "half", "--log-file", "", "--out", filepath.Join(dir, "out")}
	code, stderr := stderrOf(t, func() int { return newTraceCommand().run(context.Background(), args) })
	want := `placer-bench trace: --gpu-sharing "half": want whole (a pod asking for part of a GPU asks for a whole nvidia.com/gpu) or share (it asks for its share with the annotation placer.dev/gpu-milli)`
	if code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("exit code %d, stderr:\n%s\nwant 2 and %q", code, stderr, want)
	}
}

// replayShared replays the generated sharing trace (seed 3) with
// --gpu-sharing share and one profile; it returns the output directory and
// what the command printed.
func replayShared(t *testing.T, profile string) (out, stdout string) {
	t.Helper()
	dir := t.TempDir()
	nodes := testfile.Write(t, dir, "nodes.csv", shareNodes)
	pods := testfile.Write(t, dir, "pods.csv", sharePods())
	out = filepath.Join(dir, "out")
	args := []string{"openb", "--nodes", nodes, "--pods", pods, "--gpu-sharing", "share", "--seed", "3", "--profile", profile,
		"--log-file", "", "--out", out}
	code, stdout, stderr := outputOf(t, func() int { return newTraceCommand().run(context.Background(), args) })
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	return out, stdout
}

// With --gpu-sharing share, the default profile, which cannot share a GPU,
// binds the sharing pods as pods asking for no GPU: they are placed,
// counted as bound without a device, and their shares stay unallocated, so
// the curve ends at the GPU the whole-GPU pods hold.
func TestTraceShareWithAProfileThatCannotShare(t *testing.T) {
	out, stdout := replayShared(t, "default")
	for _, want := range []string{"GPU-sharing pods (offered: share of a GPU)", "  bound without a device (no GPU allocated)",
		"--gpu-sharing share", "profile default: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	tr := firstTrace(t, out)
	if tr.GPUSharing != "share" || tr.SharingPods == 0 || tr.SharedWithoutDevice == 0 || tr.SharedWithoutDevice != tr.Placed["share"] {
		t.Fatalf("trace %+v: want gpuSharing share and every placed sharing pod bound without a device", tr)
	}
	// What the placements say the bound pods hold: whole GPUs only, the
	// sharing pods none.
	var gpus, sharesBound int64
	for _, p := range boundPlacements(t, filepath.Join(out, "placements-default.jsonl")) {
		if g, ok := p.Requests["nvidia.com/gpu"]; ok {
			if strings.HasPrefix(p.Name, "share-") {
				t.Errorf("sharing pod %s asked for nvidia.com/gpu %s", p.Name, g.String())
			}
			gpus += g.Value()
		}
		if strings.HasPrefix(p.Name, "share-") {
			sharesBound++
		}
	}
	if sharesBound != int64(tr.SharedWithoutDevice) {
		t.Errorf("%d sharing pods bound in the placements, %d counted without a device", sharesBound, tr.SharedWithoutDevice)
	}
	last := tr.UnallocatedPercent[len(tr.UnallocatedPercent)-1]
	if want := 100 - 100*float64(gpus)/shareGPUs; last != want {
		t.Errorf("the curve ends at %g%% unallocated; the whole-GPU pods bound leave %g%%", last, want)
	}
}

// The counterpart, with the shipped placer profile, whose ResourceAware
// shares GPUs by device: every sharing pod it binds names its device, and
// the curve counts the shares as allocated beside the whole GPUs.
func TestTraceShareWithAProfileThatShares(t *testing.T) {
	out, stdout := replayShared(t, "placer")
	for _, want := range []string{"GPU-sharing pods (offered: share of a GPU)", "--gpu-sharing share"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// The warnings name a profile only for shares bound without a device
	// or a bad device annotation.
	if strings.Contains(stdout, "profile placer: ") {
		t.Errorf("output warns about profile placer:\n%s", stdout)
	}
	tr := firstTrace(t, out)
	if tr.GPUSharing != "share" || tr.SharingPods == 0 || tr.Placed["share"] == 0 {
		t.Fatalf("trace %+v: want gpuSharing share and sharing pods placed", tr)
	}
	if tr.SharedWithoutDevice != 0 || tr.DeviceAnnotationError != "" {
		t.Errorf("%d sharing pods bound without a device, device annotation error %q; want 0 and none",
			tr.SharedWithoutDevice, tr.DeviceAnnotationError)
	}
	// What the placements say the bound pods hold: whole GPUs by request,
	// and each sharing pod its share, 100·i thousandths for share-i
	// (sharePods), drawn as share-i-<draw>.
	var wholeMilli, shareMilli int64
	sharesBound := 0
	for _, p := range boundPlacements(t, filepath.Join(out, "placements-placer.jsonl")) {
		if g, ok := p.Requests["nvidia.com/gpu"]; ok {
			wholeMilli += 1000 * g.Value()
		}
		var i, draw int
		if n, _ := fmt.Sscanf(p.Name, "share-%d-%d", &i, &draw); n == 2 {
			shareMilli += int64(100 * i)
			sharesBound++
		}
	}
	if sharesBound != tr.Placed["share"] || shareMilli == 0 {
		t.Errorf("%d sharing pods bound in the placements (%d milli-GPU), %d placed in the trace result", sharesBound, shareMilli, tr.Placed["share"])
	}
	last := tr.UnallocatedPercent[len(tr.UnallocatedPercent)-1]
	if want := 100 - 100*float64(wholeMilli+shareMilli)/(shareGPUs*1000); math.Abs(last-want) > 0.001 {
		t.Errorf("the curve ends at %g%% unallocated; the whole GPUs (%d milli) and shares (%d milli) bound leave %g%%",
			last, wholeMilli, shareMilli, want)
	}
}

// firstTrace reads the trace figures of the first run from out/report.json.
func firstTrace(t *testing.T, out string) result.TraceResult {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Runs [][]struct {
			Trace result.TraceResult `json:"trace"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) == 0 || len(rep.Runs[0]) == 0 {
		t.Fatalf("%s/report.json has no runs", out)
	}
	return rep.Runs[0][0].Trace
}

// boundPlacements reads a placements export and returns the pods still
// bound at the end (deleted ones are listed with where they were).
func boundPlacements(t *testing.T, path string) []result.Placement {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []result.Placement
	dec := json.NewDecoder(f)
	for dec.More() {
		var p result.Placement
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if p.Bound() && !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}
