package limits

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/placer-dev/placer/internal/testfile"
)

func TestForMemory(t *testing.T) {
	for _, tc := range []struct {
		mem  uint64
		want int
	}{
		{0, DefaultMaxObjects},                     // unknown
		{64 << 30, DefaultMaxObjects},              // plenty
		{8 << 30, int((8 << 30) / BytesPerObject)}, // a laptop: 163840
		{1 << 30, int((1 << 30) / BytesPerObject)}, // a small container: 20971
		{BytesPerObject - 1, 0},                    // nothing fits
	} {
		if got := forMemory(tc.mem); got != tc.want {
			t.Errorf("forMemory(%d) = %d, want %d", tc.mem, got, tc.want)
		}
	}
}

func TestMemoryFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string { return testfile.Write(t, dir, name, s) }
	meminfo := write("meminfo", "MemFree:  100 kB\nMemTotal:       24576000 kB\nBuffers: 1 kB\n")
	if got, want := memTotal(meminfo), uint64(24576000)<<10; got != want {
		t.Errorf("memTotal = %d, want %d", got, want)
	}
	if got := memTotal(write("bad", "MemTotal: lots\n")); got != 0 {
		t.Errorf("memTotal of a bad line = %d, want 0 (unknown)", got)
	}
	if got := memTotal(filepath.Join(dir, "absent")); got != 0 {
		t.Errorf("memTotal of no file = %d, want 0", got)
	}
	if got := cgroupLimit(write("max", "max\n")); got != 0 {
		t.Errorf("cgroupLimit(max) = %d, want 0 (no limit)", got)
	}
	if got := cgroupLimit(write("limit", "4294967296\n")); got != 4<<30 {
		t.Errorf("cgroupLimit = %d, want %d", got, 4<<30)
	}
}

func TestCeiling(t *testing.T) {
	if got, err := Ceiling(1_000_000); err != nil || got != 1_000_000 {
		t.Errorf("Ceiling(1000000) = %d, %v; want it as given", got, err)
	}
	if got, err := Ceiling(0); err != nil || got != Default() {
		t.Errorf("Ceiling(0) = %d, %v; want Default() = %d", got, err, Default())
	}
	_, err := Ceiling(-1)
	if err == nil || err.Error() != "--max-objects=-1: want 0 (the default, "+strconv.Itoa(Default())+" on this machine) or a positive number of nodes and pods" {
		t.Errorf("Ceiling(-1): %v", err)
	}
}

func TestCheckCount(t *testing.T) {
	if err := CheckCount("x", math.MaxInt32); err != nil {
		t.Errorf("MaxInt32: %v", err)
	}
	err := CheckCount("workloads[0].replicas", 3_000_000_000)
	want := "workloads[0].replicas: 3000000000 is more than 2147483647, the most any count may be (Kubernetes counts are 32-bit)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestTotal(t *testing.T) {
	var tot Total
	tot.AddNodes("cluster.nodeGroups[0].count", 200_000)
	tot.AddNodes("cluster.nodeGroups[1].count", 10)
	tot.AddPods("workloads[0]", 50_000)
	if err := tot.Check(250_010); err != nil {
		t.Errorf("at the ceiling: %v", err)
	}
	err := tot.Check(250_000)
	want := "cluster.nodeGroups[0].count: 200000 makes the run 200010 nodes and 50000 pods, 250010 objects, more than the ceiling of 250000; " +
		"if that is meant and the machine has the memory (about 50 KiB an object), raise it with --max-objects"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}

	// Sums and products saturate rather than wrap to a small or negative
	// number that would pass.
	var huge Total
	huge.AddPods("a", Mul(math.MaxInt32, math.MaxInt32))
	huge.AddPods("b", Mul(math.MaxInt32, math.MaxInt32))
	huge.AddPods("c", Mul(math.MaxInt32, math.MaxInt32))
	if huge.Objects() != math.MaxInt64 {
		t.Errorf("three products of MaxInt32 squared add up to %d, want MaxInt64 (saturated)", huge.Objects())
	}
	if huge.Check(DefaultMaxObjects) == nil {
		t.Error("a saturated total passed")
	}
	if Mul(0, math.MaxInt64) != 0 || Mul(3, 4) != 12 || Add(math.MaxInt64, 1) != math.MaxInt64 {
		t.Error("Mul or Add is wrong on small or edge values")
	}
}
