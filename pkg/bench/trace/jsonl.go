package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// The neutral format (docs/traces.md): JSON Lines, one record a line, each
// with "kind": an optional "trace" header first, then "node" and "pod"
// records. Other public traces convert into it with a small script.

// FormatVersion is the neutral format's version, in the header record.
const FormatVersion = "placer.dev/trace/v1"

// MaxLineBytes bounds one record, far above any real one.
const MaxLineBytes = 1 << 20

type header struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
	Name    string `json:"name,omitempty"`
}

type nodeRecord struct {
	Kind string `json:"kind"`
	Node
}

type podRecord struct {
	Kind string `json:"kind"`
	Pod
}

// record is a node or a pod line.
type record interface {
	check(file string, line int) error
	name() string
}

func (r *nodeRecord) check(file string, line int) error { return checkNode(file, line, &r.Node) }
func (r *nodeRecord) name() string                      { return r.Name }
func (r *podRecord) check(file string, line int) error  { return checkPod(file, line, &r.Pod) }
func (r *podRecord) name() string                       { return r.Name }

// decodeRecord decodes a line into rec, checks it, and enters its name in
// names, which refuses one read before and one record too many.
func decodeRecord(dec *json.Decoder, file string, line int, rec record, names *roster) error {
	if err := dec.Decode(rec); err != nil {
		return jsonError(file, line, err)
	}
	if err := rec.check(file, line); err != nil {
		return err
	}
	return names.add(file, line, rec.name())
}

// WriteJSONL writes t in the neutral format.
func WriteJSONL(w io.Writer, t *Trace) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(header{Kind: "trace", Version: FormatVersion, Name: t.Name}); err != nil {
		return err
	}
	for _, n := range t.Nodes {
		if err := enc.Encode(nodeRecord{Kind: "node", Node: n}); err != nil {
			return err
		}
	}
	for _, p := range t.Pods {
		if err := enc.Encode(podRecord{Kind: "pod", Pod: p}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSONL reads a trace file in the neutral format.
func ReadJSONL(file string) (*Trace, error) {
	t, err := parseFile(file, ParseJSONL)
	if err != nil {
		return nil, err
	}
	if t.Name == "" {
		t.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return t, nil
}

// ParseJSONL reads the neutral format from r; file names it in errors.
// Nodes may come in any order with pods, but every GPU model a pod names
// must be some node's.
func ParseJSONL(file string, r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	t := &Trace{HasTimes: true}
	nodes, pods := newRoster("node", "name", MaxNodes), newRoster("pod", "name", MaxPods)
	// modelLine: where each pod's models were named, checked at the end.
	type modelRef struct {
		line  int
		model string
	}
	var refs []modelRef
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var kind struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &kind); err != nil {
			return nil, jsonError(file, line, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		switch kind.Kind {
		case "trace":
			var h header
			if err := dec.Decode(&h); err != nil {
				return nil, jsonError(file, line, err)
			}
			if h.Version != FormatVersion {
				return nil, &InputError{File: file, Line: line, Column: "version", Value: h.Version, Problem: fmt.Sprintf("want %s", FormatVersion)}
			}
			t.Name = h.Name
		case "node":
			var rec nodeRecord
			if err := decodeRecord(dec, file, line, &rec, nodes); err != nil {
				return nil, err
			}
			t.Nodes = append(t.Nodes, rec.Node)
		case "pod":
			var rec podRecord
			if err := decodeRecord(dec, file, line, &rec, pods); err != nil {
				return nil, err
			}
			for _, m := range rec.GPUModels {
				refs = append(refs, modelRef{line, m})
			}
			t.Pods = append(t.Pods, rec.Pod)
		default:
			return nil, &InputError{File: file, Line: line, Column: "kind", Value: kind.Kind, Problem: `want "trace", "node" or "pod"`}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &InputError{File: file, Line: line + 1, Problem: fmt.Sprintf("a line longer than %d bytes", MaxLineBytes)}
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(t.Nodes) == 0 {
		return nil, &InputError{File: file, Problem: `no "node" records`}
	}
	if len(t.Pods) == 0 {
		return nil, &InputError{File: file, Problem: `no "pod" records`}
	}
	models := nodeModels(t.Nodes)
	for _, ref := range refs {
		if !models[ref.model] {
			return nil, &InputError{File: file, Line: ref.line, Column: "gpuModels", Value: ref.model,
				Problem: fmt.Sprintf("unknown GPU model: the nodes have %s", strings.Join(sortedModels(models), ", "))}
		}
	}
	return t, nil
}

func jsonError(file string, line int, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimPrefix(strings.TrimPrefix(te.Field, "Pod."), "Node.")
		return &InputError{File: file, Line: line, Column: field, Value: te.Value, Problem: fmt.Sprintf("a JSON %s, want %s", te.Value, te.Type)}
	}
	return &InputError{File: file, Line: line, Problem: err.Error()}
}

// badField returns the error of one field of the object on line.
func badField(file string, line int) func(col string, v any, problem string) error {
	return func(col string, v any, problem string) error {
		return &InputError{File: file, Line: line, Column: col, Value: fmt.Sprint(v), Problem: problem}
	}
}

// checkCommon checks, in this order, what nodes and pods both have: a
// name; a label value from column labelCol (unchecked when empty); and cpu,
// memory and GPU counts within the bounds.
func checkCommon(bad func(col string, v any, problem string) error, name, labelCol, label string, cpuMilli, memoryMiB, gpus int64) error {
	switch {
	case !validName(name):
		return bad("name", name, nameRule)
	case label != "" && !validLabelValue(label):
		return bad(labelCol, label, "not usable as a label value: at most 63 letters, digits, '-', '_' or '.'")
	case cpuMilli < 0 || cpuMilli > MaxCPUMilli:
		return bad("cpuMilli", cpuMilli, fmt.Sprintf("want 0 to %d", int64(MaxCPUMilli)))
	case memoryMiB < 0 || memoryMiB > MaxMemoryMiB:
		return bad("memoryMiB", memoryMiB, fmt.Sprintf("want 0 to %d", int64(MaxMemoryMiB)))
	case gpus < 0 || gpus > MaxGPUs:
		return bad("gpus", gpus, fmt.Sprintf("want 0 to %d", MaxGPUs))
	}
	return nil
}

func checkNode(file string, line int, n *Node) error {
	bad := badField(file, line)
	if err := checkCommon(bad, n.Name, "gpuModel", n.GPUModel, n.CPUMilli, n.MemoryMiB, n.GPUs); err != nil {
		return err
	}
	switch {
	case n.GPUs == 0 && n.GPUModel != "":
		return bad("gpuModel", n.GPUModel, "a GPU model on a node with gpus 0")
	}
	return checkLabels(file, line, "labels", n.Labels)
}

func checkPod(file string, line int, p *Pod) error {
	bad := badField(file, line)
	if err := checkCommon(bad, p.Name, "owner", p.Owner, p.CPUMilli, p.MemoryMiB, p.GPUs); err != nil {
		return err
	}
	switch {
	case p.GPUMilli < 0 || p.GPUMilli > MilliPerGPU:
		return bad("gpuMilli", p.GPUMilli, "want 0 to 1000")
	case p.GPUs == 0 && p.GPUMilli != 0:
		return bad("gpuMilli", p.GPUMilli, "a share of a GPU for a pod with gpus 0")
	case p.GPUs > 1 && p.GPUMilli != 0 && p.GPUMilli != MilliPerGPU:
		return bad("gpuMilli", p.GPUMilli, "only a pod with one GPU may share it; want 1000 or nothing")
	case !validTime(p.Arrival):
		return bad("arrival", p.Arrival, fmt.Sprintf("want seconds from 0 to %g", float64(MaxSeconds)))
	case p.Departure != nil && !validTime(*p.Departure):
		return bad("departure", *p.Departure, fmt.Sprintf("want seconds from 0 to %g", float64(MaxSeconds)))
	case p.Departure != nil && *p.Departure < p.Arrival:
		return bad("departure", *p.Departure, fmt.Sprintf("before the pod's arrival %g", p.Arrival))
	case slices.Contains(p.GPUModels, ""):
		return bad("gpuModels", "", "an empty GPU model")
	}
	if err := checkLabels(file, line, "nodeSelector", p.NodeSelector); err != nil {
		return err
	}
	// A whole-GPU pod may leave gpuMilli out.
	if p.GPUs > 0 && p.GPUMilli == 0 {
		p.GPUMilli = MilliPerGPU
	}
	return nil
}
