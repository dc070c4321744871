package trace

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Protocols.
const (
	// ProtocolFGD is the FGD paper's: pods drawn at random (seeded) until
	// their GPU requests reach a target share of the cluster's GPUs,
	// offered one at a time, none departing.
	ProtocolFGD = "fgd"
	// ProtocolTimeline replays the trace's own arrivals and departures.
	ProtocolTimeline = "timeline"
)

// MaxSeeds bounds a --seed list.
const MaxSeeds = 1000

// ParseSeeds reads a --seed value: a number, a range "42-51", or a
// comma-separated list of either.
func ParseSeeds(s string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("--seed %q: %q is not a seed (want N, N-M or a comma-separated list; seeds are 0 or more)", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("--seed %q: %q is not a range N-M with M at least N", s, part)
			}
		}
		if b-a >= MaxSeeds || len(out)+int(b-a+1) > MaxSeeds {
			return nil, fmt.Errorf("--seed %q: more than %d seeds", s, MaxSeeds)
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// MaxTargetPercent bounds --target: the draw stops at that share of the
// cluster's GPUs, so it also bounds how many pods a replay offers.
const MaxTargetPercent = 1000

// DrawFGD draws the pods of one FGD replay: pods of the trace picked at
// random with replacement (the list is smaller than the workload the paper
// offers) until their GPU requests reach targetPercent of the cluster's
// GPU capacity, then shuffled. Each drawn pod is named after its trace pod
// and its position, since one trace pod may be drawn more than once. The
// same seed draws the same pods.
func DrawFGD(t *Trace, seed int64, targetPercent float64) ([]Pod, error) {
	target, err := fgdTarget(t, targetPercent)
	if err != nil {
		return nil, err
	}
	rng := fgdRand(seed)
	var out []Pod
	fgdDraw(t, rng, target, func(p Pod) bool {
		p.Name = fmt.Sprintf("%s-%d", p.Name, len(out))
		p.Arrival, p.Departure = 0, nil
		out = append(out, p)
		return true
	})
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// fgdTarget is the GPU request, in milli-GPU, an FGD draw stops at; an
// error if the trace cannot reach it.
func fgdTarget(t *Trace, targetPercent float64) (int64, error) {
	capacity := t.GPUCapacityMilli()
	if capacity == 0 {
		return 0, fmt.Errorf("trace %s: the nodes have no GPUs; the FGD protocol fills GPU capacity", t.Name)
	}
	var gpuPods int
	for i := range t.Pods {
		if t.Pods[i].GPURequestMilli() > 0 {
			gpuPods++
		}
	}
	if gpuPods == 0 {
		return 0, fmt.Errorf("trace %s: no pod asks for a GPU; the FGD protocol fills GPU capacity", t.Name)
	}
	return int64(float64(capacity) * targetPercent / 100), nil
}

func fgdRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0xf6d)) }

// fgdDraw draws trace pods with rng until their GPU requests reach target,
// handing each to take, and stops early when take returns false. DrawFGD
// and CheckFGD share it, so that the pods counted are the pods drawn.
func fgdDraw(t *Trace, rng *rand.Rand, target int64, take func(Pod) bool) {
	var requested int64
	for requested < target {
		p := t.Pods[rng.IntN(len(t.Pods))]
		requested += p.GPURequestMilli()
		if !take(p) {
			return
		}
	}
}

// Event is one step of a timeline replay: a pod arrives or departs.
type Event struct {
	// At is seconds from the replay's start, already divided by the speed.
	At     float64
	Pod    int // index into the trace's pods
	Arrive bool
}

// Timeline lists the trace's arrivals and departures in time order, times
// divided by speed and counted from the first arrival. At equal times a
// departure comes first, so that capacity a pod frees is there for the
// one arriving then; a pod that leaves as it arrives leaves after.
func Timeline(t *Trace, speed float64) ([]Event, error) {
	if !t.HasTimes {
		return nil, fmt.Errorf("trace %s: the pods have no creation times; the timeline protocol needs them (use --protocol fgd)", t.Name)
	}
	if speed <= 0 {
		return nil, fmt.Errorf("--speed %g: want more than 0", speed)
	}
	start := t.Pods[0].Arrival
	for _, p := range t.Pods {
		start = min(start, p.Arrival)
	}
	var out []Event
	for i, p := range t.Pods {
		out = append(out, Event{At: (p.Arrival - start) / speed, Pod: i, Arrive: true})
		if p.Departure != nil {
			out = append(out, Event{At: (*p.Departure - start) / speed, Pod: i})
		}
	}
	// rank orders events at one instant: departures of pods already there,
	// then arrivals, then departures of pods that arrive at that instant
	// (a pod must exist before it can leave).
	rank := func(e Event) int {
		switch {
		case e.Arrive:
			return 1
		case t.Pods[e.Pod].Arrival == *t.Pods[e.Pod].Departure:
			return 2
		}
		return 0
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].At != out[j].At {
			return out[i].At < out[j].At
		}
		return rank(out[i]) < rank(out[j])
	})
	return out, nil
}
