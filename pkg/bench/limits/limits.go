// Package limits holds the ceilings every count of a benchmark input is
// checked against before anything runs, so that a typo (a count with three
// zeros too many, a --set meant for another param) is refused with a message
// instead of truncating into a negative Kubernetes replica count or running
// the process out of memory half way, on a real cluster before its clean-up.
//
// Two kinds of ceiling:
//   - MaxCount, fixed: every single count fits an int32, as Kubernetes'
//     replica counts and the harness's loops over them need.
//   - The object ceiling, on the nodes and pods a run makes in all: a
//     default that fits the machine's memory (Default), which --max-objects
//     raises (or lowers) knowingly.
//
// docs/workloads.md ("Ceilings") documents both for users.
package limits

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// MaxCount is the most any single count may be: Deployments', StatefulSets'
// and Jobs' replica counts are int32, and the harness's other counts feed
// them or loops sized by them.
const MaxCount = math.MaxInt32

// DefaultMaxObjects is the object ceiling on a machine with memory to spare:
// issue 20's largest target, 50,000 nodes and 200,000 pods, which it plans
// to fit in 24 GiB.
const DefaultMaxObjects = 250_000

// BytesPerObject is the peak resident memory one node or pod costs a run on
// the memory backend, measured: 15,000 nodes and 150,000 pods peaked at
// 7.7 GiB RSS, about 49 KiB each (scheduler cache, informers, the backend's
// store and the harness's bookkeeping together). Rounded up.
const BytesPerObject = 50 << 10

// Flag is the command-line flag that sets the object ceiling.
const Flag = "--max-objects"

// FlagHelp is the help text of every --max-objects flag.
var FlagHelp = fmt.Sprintf("the most nodes and pods a run may make, checked before anything runs; "+
	"0 means %d, or fewer on a machine with less than %d GiB of memory (about %d KiB each); "+
	"raise it knowingly (docs/workloads.md, Ceilings)",
	DefaultMaxObjects, DefaultMaxObjects*BytesPerObject>>30+1, BytesPerObject>>10)

// Ceiling resolves a --max-objects value: positive is taken as given, 0
// means Default(), negative is an error.
func Ceiling(flag int) (int, error) {
	switch {
	case flag < 0:
		return 0, fmt.Errorf("%s=%d: want 0 (the default, %d on this machine) or a positive number of nodes and pods", Flag, flag, Default())
	case flag > 0:
		return flag, nil
	}
	return Default(), nil
}

// Default is the object ceiling on this machine: DefaultMaxObjects, or what
// the memory available to this process holds at BytesPerObject, whichever
// is smaller.
func Default() int {
	return forMemory(machineMemory())
}

// forMemory is the default ceiling for a machine with mem bytes (0:
// unknown, then DefaultMaxObjects).
func forMemory(mem uint64) int {
	if mem == 0 {
		return DefaultMaxObjects
	}
	return int(min(uint64(DefaultMaxObjects), mem/BytesPerObject))
}

// machineMemory is the memory this process may use: the machine's, or its
// cgroup's limit when lower (cgroup v2, else v1, whose "no limit" is a
// number far above any machine); 0 when none can be read (not Linux).
func machineMemory() uint64 {
	mem := memTotal("/proc/meminfo")
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if limit := cgroupLimit(p); limit > 0 && (mem == 0 || limit < mem) {
			mem = limit
		}
	}
	return mem
}

// memTotal reads MemTotal from a /proc/meminfo file, in bytes.
func memTotal(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil || kb > math.MaxUint64>>10 {
			return 0
		}
		return kb << 10
	}
	return 0
}

// cgroupLimit reads a cgroup memory limit file (v2 memory.max, v1
// memory.limit_in_bytes): bytes, or 0 for "max" (no limit) and anything
// unreadable.
func cgroupLimit(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// CheckCount refuses a single count above MaxCount. what names the field
// (and the param it came from, if any); the error names it, the value and
// the ceiling.
func CheckCount(what string, v int64) error {
	if v > MaxCount {
		return fmt.Errorf("%s: %d is more than %d, the most any count may be (Kubernetes counts are 32-bit)", what, v, int64(MaxCount))
	}
	return nil
}

// Total adds up a run's objects, saturating instead of overflowing, and
// remembers the largest single contribution so that a refusal can name the
// count most likely to be wrong.
type Total struct {
	Nodes, Pods int64
	// Largest is the field that contributed most, and its contribution.
	Largest      string
	LargestValue int64
}

// AddNodes counts n nodes from the field what.
func (t *Total) AddNodes(what string, n int64) { t.Nodes = t.add(t.Nodes, what, n) }

// AddPods counts n pods (or other namespaced objects of the same weight)
// from the field what.
func (t *Total) AddPods(what string, n int64) { t.Pods = t.add(t.Pods, what, n) }

func (t *Total) add(sum int64, what string, n int64) int64 {
	if n > t.LargestValue {
		t.Largest, t.LargestValue = what, n
	}
	return Add(sum, n)
}

// Objects is nodes and pods together.
func (t *Total) Objects() int64 { return Add(t.Nodes, t.Pods) }

// Check refuses a total above ceiling. The error names the largest count
// (field and value), the totals and the ceiling, and how to raise it.
func (t *Total) Check(ceiling int) error {
	n := t.Objects()
	if n <= int64(ceiling) {
		return nil
	}
	return fmt.Errorf("%s: %d makes the run %d nodes and %d pods, %d objects, more than the ceiling of %d; "+
		"if that is meant and the machine has the memory (about %d KiB an object), raise it with %s",
		t.Largest, t.LargestValue, t.Nodes, t.Pods, n, ceiling, BytesPerObject>>10, Flag)
}

// Add returns a+b for non-negative a and b, or math.MaxInt64 if that
// overflows.
func Add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Mul returns a*b for non-negative a and b, or math.MaxInt64 if that
// overflows.
func Mul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
