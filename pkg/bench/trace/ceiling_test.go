package trace

import (
	"strings"
	"testing"
)

func TestCheckFGD(t *testing.T) {
	// One node of 8 GPUs and pods asking for one milli-GPU each: 130% of
	// the capacity takes 10400 of them.
	tiny := &Trace{Name: "tiny", Nodes: []Node{{Name: "n", CPUMilli: 1000, GPUs: 8}},
		Pods: []Pod{{Name: "p", CPUMilli: 1, GPUs: 1, GPUMilli: 1}}}
	err := CheckFGD(tiny, []int64{42}, 130, 1000)
	want := "trace tiny: --target 130 with seed 42 draws more than 999 pods, which with the trace's 1 nodes is more than the ceiling of 1000 objects; " +
		"lower --target or, if that is meant and the machine has the memory (about 50 KiB an object), raise the ceiling with --max-objects"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if err := CheckFGD(tiny, []int64{42}, 130, 10401); err != nil {
		t.Errorf("exactly at the ceiling: %v", err)
	}

	// The count is the draw's: at nodes plus the draw's length it passes,
	// one below it is refused, for each seed of the list.
	tr, err := ReadOpenB(writeFiles(t, testNodes, testPods))
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{42, 43} {
		pods, err := DrawFGD(tr, seed, 130)
		if err != nil {
			t.Fatal(err)
		}
		exact := len(tr.Nodes) + len(pods)
		if err := CheckFGD(tr, []int64{seed}, 130, exact); err != nil {
			t.Errorf("seed %d at %d objects: %v", seed, exact, err)
		}
		if err := CheckFGD(tr, []int64{seed}, 130, exact-1); err == nil {
			t.Errorf("seed %d: one under its draw passed", seed)
		}
	}

	if err := CheckFGD(tr, []int64{1}, 130, len(tr.Nodes)-1); err == nil || !strings.Contains(err.Error(), "nodes, more than the ceiling of") {
		t.Errorf("more nodes than the ceiling: %v", err)
	}
	noGPU := &Trace{Name: "cpu", Nodes: []Node{{Name: "n", CPUMilli: 1}}, Pods: tr.Pods}
	if err := CheckFGD(noGPU, []int64{1}, 130, 100); err == nil || !strings.Contains(err.Error(), "no GPUs") {
		t.Errorf("a cluster without GPUs: %v", err)
	}
}

func TestCheckTimeline(t *testing.T) {
	ten, fifteen := 10.0, 15.0
	tr := &Trace{Name: "tl", HasTimes: true, Nodes: []Node{{Name: "a"}, {Name: "b"}},
		Pods: []Pod{{Name: "x", Arrival: 0, Departure: &ten}, {Name: "y", Arrival: 5, Departure: &fifteen}, {Name: "z", Arrival: 20}}}
	events, err := Timeline(tr, 1)
	if err != nil {
		t.Fatal(err)
	}
	// x and y overlap from 5 s to 10 s; z comes after both left.
	if err := CheckTimeline(tr, events, 4); err != nil {
		t.Errorf("2 nodes and 2 pods at once under a ceiling of 4: %v", err)
	}
	err = CheckTimeline(tr, events, 3)
	want := "trace tl: 2 pods present at once (5s into the replay) and 2 nodes, 4 objects, more than the ceiling of 3; " +
		"if that is meant and the machine has the memory (about 50 KiB an object), raise it with --max-objects"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
