package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The OpenB format: Alibaba's cluster-trace-gpu-v2023, as published with
// the FGD paper. Node lists have the columns sn, cpu_milli, memory_mib, gpu,
// model; pod lists name, cpu_milli, memory_mib, num_gpu, gpu_milli and, in
// most lists, gpu_spec (accepted models, '|'-separated), qos, pod_phase,
// creation_time, deletion_time, scheduled_time. Other columns are ignored.
var (
	openbNodeColumns = []string{"sn", "cpu_milli", "memory_mib", "gpu", "model"}
	openbPodColumns  = []string{"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"}
)

// MaxFileBytes bounds a trace file, so that a wrong path (a disk image, a
// log) is refused before it is read into memory.
const MaxFileBytes = 2 << 30

// ReadOpenB reads an OpenB node list and pod list. Every cell is checked,
// and every pod's gpu_spec against the models the nodes have, before the
// trace is returned: a bad file is refused before anything runs.
func ReadOpenB(nodesFile, podsFile string) (*Trace, error) {
	nodes, err := parseFile(nodesFile, ParseOpenBNodes)
	if err != nil {
		return nil, err
	}
	var podsHaveTimes bool
	pods, err := parseFile(podsFile, func(file string, r io.Reader) (pods []Pod, err error) {
		pods, podsHaveTimes, err = parseOpenBPods(file, r, nodeModels(nodes))
		return pods, err
	})
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(podsFile), filepath.Ext(podsFile))
	return &Trace{Name: name, Nodes: nodes, Pods: pods, HasTimes: podsHaveTimes}, nil
}

// roster is where each name of one kind of record was read, for refusing
// a name read twice and more records than the kind allows.
type roster struct {
	kind, column string
	max          int
	lines        map[string]int
}

func newRoster(kind, column string, max int) *roster {
	return &roster{kind: kind, column: column, max: max, lines: map[string]int{}}
}

// add enters a record's name, read on line of file; an error for a name
// read before, or when the kind's maximum is already reached.
func (r *roster) add(file string, line int, name string) error {
	if first, dup := r.lines[name]; dup {
		return &InputError{File: file, Line: line, Column: r.column, Value: name, Problem: fmt.Sprintf("%s named twice (first on line %d)", r.kind, first)}
	}
	if len(r.lines) == r.max {
		return &InputError{File: file, Line: line, Problem: fmt.Sprintf("more than %d %ss", r.max, r.kind)}
	}
	r.lines[name] = line
	return nil
}

// parseFile parses file, opened with openLimited, with parse.
func parseFile[T any](file string, parse func(file string, r io.Reader) (T, error)) (T, error) {
	f, err := openLimited(file)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(file, f)
}

func openLimited(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: a directory, not a trace file", path)
	}
	if st.Size() > MaxFileBytes {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes, above the limit of %d for a trace file", path, st.Size(), int64(MaxFileBytes))
	}
	return f, nil
}

// nodeModels lists the GPU models the nodes have.
func nodeModels(nodes []Node) map[string]bool {
	out := map[string]bool{}
	for _, n := range nodes {
		if n.GPUModel != "" {
			out[n.GPUModel] = true
		}
	}
	return out
}

// csvTable reads a CSV file with a header row, finding columns by name.
type csvTable struct {
	file  string
	r     *csv.Reader
	index map[string]int
	width int
}

func newCSVTable(file string, r io.Reader, required []string) (*csvTable, error) {
	cr := csv.NewReader(r)
	// Short rows are reported by this reader, naming the missing column.
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &InputError{File: file, Line: 1, Problem: fmt.Sprintf("empty file: want a header row with the columns %s", strings.Join(required, ","))}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	t := &csvTable{file: file, r: cr, index: map[string]int{}, width: len(header)}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := t.index[h]; dup {
			return nil, &InputError{File: file, Line: 1, Column: h, Value: h, Problem: "column given twice in the header"}
		}
		t.index[h] = i
	}
	for _, c := range required {
		if _, ok := t.index[c]; !ok {
			return nil, &InputError{File: file, Line: 1, Column: c, Problem: fmt.Sprintf("missing column: the header has %s, want %s", strings.Join(header, ","), strings.Join(required, ","))}
		}
	}
	return t, nil
}

// next returns the next row and its line; io.EOF at the end.
func (t *csvTable) next() (row []string, line int, err error) {
	row, err = t.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		return nil, 0, csvError(t.file, err)
	}
	line, _ = t.r.FieldPos(0)
	return row, line, nil
}

// cell returns a column of row; a row too short to have it is an error.
// each calls f with each row and its line, to the end of the table or
// the first error, the reader's or f's.
func (t *csvTable) each(f func(row []string, line int) error) error {
	for {
		row, line, err := t.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(row, line); err != nil {
			return err
		}
	}
}

func (t *csvTable) cell(row []string, line int, column string) (string, error) {
	i, ok := t.index[column]
	if !ok {
		return "", nil
	}
	if i >= len(row) {
		return "", &InputError{File: t.file, Line: line, Column: column,
			Problem: fmt.Sprintf("short row: %d cells, the header has %d", len(row), t.width)}
	}
	return strings.TrimSpace(row[i]), nil
}

func (t *csvTable) has(column string) bool { _, ok := t.index[column]; return ok }

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{File: file, Line: pe.Line, Problem: fmt.Sprintf("column %d: %v", pe.Column, pe.Err)}
	}
	return fmt.Errorf("%s: %w", file, err)
}

// ParseOpenBNodes reads an OpenB node list; file names it in errors.
func ParseOpenBNodes(file string, r io.Reader) ([]Node, error) {
	t, err := newCSVTable(file, r, openbNodeColumns)
	if err != nil {
		return nil, err
	}
	var nodes []Node
	seen := map[string]int{}
	if err := t.each(func(row []string, line int) error {
		var err error
		cells := map[string]string{}
		for _, c := range openbNodeColumns {
			if cells[c], err = t.cell(row, line, c); err != nil {
				return err
			}
		}
		n := Node{Name: cells["sn"]}
		if !validName(n.Name) {
			return &InputError{File: file, Line: line, Column: "sn", Value: n.Name, Problem: nameRule}
		}
		if first, dup := seen[n.Name]; dup {
			return &InputError{File: file, Line: line, Column: "sn", Value: n.Name, Problem: fmt.Sprintf("node named twice (first on line %d)", first)}
		}
		seen[n.Name] = line
		if n.CPUMilli, err = parseInt(file, line, "cpu_milli", cells["cpu_milli"], MaxCPUMilli); err != nil {
			return err
		}
		if n.MemoryMiB, err = parseInt(file, line, "memory_mib", cells["memory_mib"], MaxMemoryMiB); err != nil {
			return err
		}
		if n.GPUs, err = parseInt(file, line, "gpu", cells["gpu"], MaxGPUs); err != nil {
			return err
		}
		// CPU-only nodes carry "nan" (pandas' empty) or nothing.
		if m := cells["model"]; m != "nan" && n.GPUs > 0 {
			if !validLabelValue(m) {
				return &InputError{File: file, Line: line, Column: "model", Value: m, Problem: "not usable as a label value: at most 63 letters, digits, '-', '_' or '.'"}
			}
			n.GPUModel = m
		}
		if len(nodes) == MaxNodes {
			return &InputError{File: file, Line: line, Problem: fmt.Sprintf("more than %d nodes", MaxNodes)}
		}
		nodes = append(nodes, n)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, &InputError{File: file, Problem: "no nodes: the file has a header and no rows"}
	}
	return nodes, nil
}

// ParseOpenBPods reads an OpenB pod list; models are the GPU models the
// cluster has, against which each gpu_spec is checked (nil: unchecked).
func ParseOpenBPods(file string, r io.Reader, models map[string]bool) ([]Pod, error) {
	pods, _, err := parseOpenBPods(file, r, models)
	return pods, err
}

func parseOpenBPods(file string, r io.Reader, models map[string]bool) ([]Pod, bool, error) {
	pods, t, err := readOpenBPods(file, r, models)
	return pods, t != nil && t.has("creation_time"), err
}

func readOpenBPods(file string, r io.Reader, models map[string]bool) ([]Pod, *csvTable, error) {
	t, err := newCSVTable(file, r, openbPodColumns)
	if err != nil {
		return nil, nil, err
	}
	var pods []Pod
	names := newRoster("pod", "name", MaxPods)
	if err := t.each(func(row []string, line int) error {
		p, err := openbPod(t, row, line, models)
		if err != nil {
			return err
		}
		if err := names.add(file, line, p.Name); err != nil {
			return err
		}
		pods = append(pods, p)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	if len(pods) == 0 {
		return nil, nil, &InputError{File: file, Problem: "no pods: the file has a header and no rows"}
	}
	return pods, t, nil
}

func openbPod(t *csvTable, row []string, line int, models map[string]bool) (Pod, error) {
	file := t.file
	get := func(c string) (string, error) { return t.cell(row, line, c) }
	var p Pod
	var err error
	if p.Name, err = get("name"); err != nil {
		return p, err
	}
	if !validName(p.Name) {
		return p, &InputError{File: file, Line: line, Column: "name", Value: p.Name, Problem: nameRule}
	}
	ints := []struct {
		column string
		dst    *int64
		limit  int64
	}{{"cpu_milli", &p.CPUMilli, MaxCPUMilli}, {"memory_mib", &p.MemoryMiB, MaxMemoryMiB},
		{"num_gpu", &p.GPUs, MaxGPUs}, {"gpu_milli", &p.GPUMilli, MilliPerGPU}}
	for _, f := range ints {
		cell, err := get(f.column)
		if err != nil {
			return p, err
		}
		if *f.dst, err = parseInt(file, line, f.column, cell, f.limit); err != nil {
			return p, err
		}
	}
	badMilli := func(problem string) error {
		return &InputError{File: file, Line: line, Column: "gpu_milli", Value: fmt.Sprint(p.GPUMilli), Problem: problem}
	}
	switch {
	case p.GPUs == 0 && p.GPUMilli != 0:
		return p, badMilli("a share of a GPU for a pod with num_gpu 0")
	case p.GPUs > 0 && p.GPUMilli == 0:
		return p, badMilli(fmt.Sprintf("num_gpu %d with no share of a GPU: want 1 to 1000", p.GPUs))
	case p.GPUs > 1 && p.GPUMilli != MilliPerGPU:
		return p, badMilli(fmt.Sprintf("num_gpu %d: only a pod with one GPU may share it; want 1000", p.GPUs))
	}
	if t.has("gpu_spec") {
		spec, err := get("gpu_spec")
		if err != nil {
			return p, err
		}
		if spec != "" && spec != "nan" {
			for _, m := range strings.Split(spec, "|") {
				m = strings.TrimSpace(m)
				if m == "" || (models != nil && !models[m]) {
					return p, &InputError{File: file, Line: line, Column: "gpu_spec", Value: spec,
						Problem: fmt.Sprintf("unknown GPU model %q: the nodes have %s", m, strings.Join(sortedModels(models), ", "))}
				}
				if !slices.Contains(p.GPUModels, m) {
					p.GPUModels = append(p.GPUModels, m)
				}
			}
		}
	}
	if t.has("creation_time") {
		cell, err := get("creation_time")
		if err != nil {
			return p, err
		}
		if p.Arrival, err = parseSeconds(file, line, "creation_time", cell); err != nil {
			return p, err
		}
	}
	if t.has("deletion_time") {
		cell, err := get("deletion_time")
		if err != nil {
			return p, err
		}
		if cell != "" && cell != "nan" {
			d, err := parseSeconds(file, line, "deletion_time", cell)
			if err != nil {
				return p, err
			}
			if d < p.Arrival {
				return p, &InputError{File: file, Line: line, Column: "deletion_time", Value: cell,
					Problem: fmt.Sprintf("before the pod's creation_time %g", p.Arrival)}
			}
			p.Departure = &d
		}
	}
	return p, nil
}

func sortedModels(models map[string]bool) []string {
	out := make([]string, 0, len(models))
	for m := range models {
		out = append(out, m)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return []string{"no GPU models"}
	}
	return out
}
