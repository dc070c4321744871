package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/placer-dev/placer/internal/schedproc"
)

// TestBenchDemo runs `placer-bench run` as make bench does and reads its table.
func TestBenchDemo(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	logFile := filepath.Join(t.TempDir(), "bench.log")
	out, err := exec.Command(bin, "run", "--zones=2", "--cpu-nodes=1", "--cpu-pods=4", "--gpu-pods=3", "--log-file="+logFile).CombinedOutput()
	if err != nil {
		t.Fatalf("placer-bench run: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, `7 pods placed by profile "placer"`) {
		t.Errorf("summary line missing:\n%s", text)
	}
	// GPUs are packed: one row holds all three training pods and 3 GPUs.
	var gpuRows []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "train-") {
			gpuRows = append(gpuRows, line)
		}
	}
	if len(gpuRows) != 1 || !strings.Contains(gpuRows[0], "train-0 train-1 train-2") || !strings.HasSuffix(strings.TrimSpace(gpuRows[0]), " 3") {
		t.Errorf("GPU pods not packed on one node:\n%s", text)
	}
	// Logs went to the file, not the terminal.
	if strings.Contains(text, "I1") || strings.Contains(text, "E1") {
		t.Errorf("klog lines on the terminal:\n%s", text)
	}

	// Bad flags fail before anything runs, naming the flag and value.
	out, err = exec.Command(bin, "run", "--zones=0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--zones must be at least 1, got 0") {
		t.Errorf("run --zones=0: %v\n%s", err, out)
	}
}
