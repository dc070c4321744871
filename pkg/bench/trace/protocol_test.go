package trace

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSeeds(t *testing.T) {
	got, err := ParseSeeds("42-44,7")
	if err != nil || !reflect.DeepEqual(got, []int64{42, 43, 44, 7}) {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "x", "5-3", "-1", "1-", "0-100000"} {
		if _, err := ParseSeeds(bad); err == nil || !strings.Contains(err.Error(), "--seed") {
			t.Errorf("ParseSeeds(%q): %v, want an error naming --seed", bad, err)
		}
	}
}

// The draw reaches the target and no further than one pod past it, is the
// same for the same seed, differs for another, and names each pod apart.
func TestDrawFGD(t *testing.T) {
	tr, err := ReadOpenB(writeFiles(t, testNodes, testPods))
	if err != nil {
		t.Fatal(err)
	}
	pods, err := DrawFGD(tr, 42, 130)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	names := map[string]bool{}
	for _, p := range pods {
		total += p.GPURequestMilli()
		if names[p.Name] {
			t.Errorf("pod %s drawn twice under one name", p.Name)
		}
		names[p.Name] = true
		if p.Departure != nil {
			t.Errorf("pod %s departs; nothing departs under fgd", p.Name)
		}
	}
	target := tr.GPUCapacityMilli() * 130 / 100
	if total < target || total >= target+2000 {
		t.Errorf("drew %d milli-GPU, want %d up to one pod more", total, target)
	}
	again, _ := DrawFGD(tr, 42, 130)
	if !reflect.DeepEqual(pods, again) {
		t.Error("the same seed drew different pods")
	}
	other, _ := DrawFGD(tr, 43, 130)
	if reflect.DeepEqual(pods, other) {
		t.Error("seeds 42 and 43 drew the same pods")
	}
	noGPU := &Trace{Name: "cpu", Nodes: []Node{{Name: "n", CPUMilli: 1}}, Pods: tr.Pods}
	if _, err := DrawFGD(noGPU, 1, 130); err == nil || !strings.Contains(err.Error(), "no GPUs") {
		t.Errorf("draw on a cluster without GPUs: %v", err)
	}
}

func TestTimeline(t *testing.T) {
	tr, err := ReadOpenB(writeFiles(t, testNodes, testPods))
	if err != nil {
		t.Fatal(err)
	}
	events, err := Timeline(tr, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		kind := "-"
		if e.Arrive {
			kind = "+"
		}
		got = append(got, kind+tr.Pods[e.Pod].Name)
	}
	// p-2 departs at 30 s; p-1 has no departure. Times divided by 10.
	want := "+p-0 +p-3 +p-1 +p-2 -p-2 -p-3 -p-0"
	if strings.Join(got, " ") != want {
		t.Errorf("events %v, want %s", got, want)
	}
	if events[len(events)-1].At != 10 {
		t.Errorf("last event at %g s, want 100/10", events[len(events)-1].At)
	}
	// A pod leaving the instant it arrives is created, then deleted.
	zero := 0.0
	instant := &Trace{Name: "i", HasTimes: true, Pods: []Pod{{Name: "a", Departure: &zero}}}
	if ev, _ := Timeline(instant, 1); len(ev) != 2 || !ev[0].Arrive || ev[1].Arrive {
		t.Errorf("events %+v: want the arrival first", ev)
	}
	if _, err := Timeline(tr, 0); err == nil {
		t.Error("speed 0 accepted")
	}
}
