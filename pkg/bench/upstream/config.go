// Package upstream runs upstream scheduler_perf's test cases
// (k8s.io/kubernetes/test/integration/scheduler_perf, its
// performance-config.yaml files and their templates) unchanged, on
// placer-bench's backends and with its profiles, and reports them through
// the runner's Result like any other run. docs/upstream.md lists the ops
// and fields it supports and how it differs from scheduler_perf's harness.
package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// File is one performance-config.yaml: a list of test cases.
type File struct {
	// Path is the file as given; Dir resolves the paths inside it, as
	// scheduler_perf resolves them against the test's directory, which is
	// the file's.
	Path  string
	Dir   string
	Cases []*TestCase
}

// TestCase is one entry of the file: a template of ops and the workloads
// (sizes) it runs at.
type TestCase struct {
	Name string
	Line int
	// FeatureGates are set before the run; a workload's own win.
	FeatureGates map[string]bool
	// SchedulerConfigPath is the KubeSchedulerConfiguration the case asks
	// for (resolved against the file's directory), empty for upstream's
	// default profile.
	SchedulerConfigPath    string
	DefaultPodTemplatePath string
	Labels                 []string
	Template               []*Op
	Workloads              []*Workload
}

// Workload is one size of a test case.
type Workload struct {
	Name         string
	Line         int
	Params       map[string]any
	Labels       []string
	FeatureGates map[string]bool
	// Threshold is the least average SchedulingThroughput upstream's CI
	// accepts; placer-bench warns below it.
	Threshold float64
}

// IsUpstreamFile reports whether data is in scheduler_perf's format: a YAML
// list at the top (placer-bench's own workload files are a mapping).
func IsUpstreamFile(data []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	return doc.Content[0].Kind == yaml.SequenceNode
}

// Load reads and checks a performance-config.yaml. Errors name the file,
// the line and the field. Ops placer-bench does not run are kept, marked
// Unsupported: selecting a case that uses one fails in Plan.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, Dir: filepath.Dir(path)}
	if err := f.parse(data); err != nil {
		return nil, err
	}
	return f, nil
}

// errAt formats an error at a node's line.
func (f *File) errAt(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", f.Path, n.Line, fmt.Sprintf(format, args...))
}

func (f *File) parse(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
		return fmt.Errorf("%s: want a list of test cases (scheduler_perf's performance-config.yaml format)", f.Path)
	}
	seen := map[string]bool{}
	for i, n := range doc.Content[0].Content {
		tc, err := f.parseCase(n, fmt.Sprintf("[%d]", i))
		if err != nil {
			return err
		}
		if seen[tc.Name] {
			return f.errAt(n, "test case name %q is not unique", tc.Name)
		}
		seen[tc.Name] = true
		f.Cases = append(f.Cases, tc)
	}
	if len(f.Cases) == 0 {
		return fmt.Errorf("%s: no test cases", f.Path)
	}
	return nil
}

// fields walks a mapping's keys, case-insensitively as encoding/json
// matches them, calling set for each; an unknown key is an error.
func (f *File) fields(n *yaml.Node, path string, known []string, set func(key string, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return f.errAt(n, "%s: want a mapping", path)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		// A value may be an alias of an anchored one (&name … *name).
		for v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		match := ""
		for _, name := range known {
			if strings.EqualFold(name, k.Value) {
				match = name
				break
			}
		}
		if match == "" {
			return f.errAt(k, "%s: unknown field %q", path, k.Value)
		}
		if err := set(match, v); err != nil {
			return err
		}
	}
	return nil
}

// decode decodes a node into v with encoding/json's rules (as
// scheduler_perf's sigs.k8s.io/yaml does), after checking that every key of
// every nested mapping names a field, so that a typo is reported at its line.
func (f *File) decode(n *yaml.Node, path string, v any) error {
	if err := f.checkKeys(n, reflect.TypeOf(v), path); err != nil {
		return err
	}
	var raw any
	if err := n.Decode(&raw); err != nil {
		return f.errAt(n, "%s: %v", path, err)
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return f.errAt(n, "%s: %v", path, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(j)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return f.errAt(n, "%s.%s: cannot take %s %s: want %s", path, te.Field, te.Value, shortJSON(j, te.Offset), te.Type)
		}
		return f.errAt(n, "%s: %v", path, err)
	}
	return nil
}

// shortJSON shows what surrounds offset in a decoded document, for errors.
func shortJSON(j []byte, offset int64) string {
	start := max(0, int(offset)-20)
	return fmt.Sprintf("(near %q)", string(j[start:min(len(j), int(offset))]))
}

// checkKeys checks the keys of n's mappings against t's struct fields,
// recursively through structs, pointers and slices; maps take any key.
func (f *File) checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || t == reflect.TypeOf(metav1.Duration{}) {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			field, ok := t.FieldByNameFunc(func(name string) bool { return strings.EqualFold(name, k.Value) })
			if !ok || !field.IsExported() {
				return f.errAt(k, "%s: unknown field %q", path, k.Value)
			}
			if err := f.checkKeys(n.Content[i+1], field.Type, path+"."+k.Value); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, e := range n.Content {
				if err := f.checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if err := f.checkKeys(n.Content[i], t.Elem(), path+"."+n.Content[i-1].Value); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (f *File) parseCase(n *yaml.Node, path string) (*TestCase, error) {
	tc := &TestCase{Line: n.Line}
	var template, workloads *yaml.Node
	known := []string{"name", "featureGates", "metricsCollectorConfig", "workloadTemplate", "workloads",
		"schedulerConfigPath", "defaultPodTemplatePath", "labels", "defaultThresholdMetricSelector"}
	err := f.fields(n, path, known, func(key string, v *yaml.Node) error {
		switch key {
		case "name":
			return f.decode(v, path+".name", &tc.Name)
		case "featureGates":
			return f.decode(v, path+".featureGates", &tc.FeatureGates)
		case "workloadTemplate":
			template = v
		case "workloads":
			workloads = v
		case "schedulerConfigPath":
			return f.decode(v, path+".schedulerConfigPath", &tc.SchedulerConfigPath)
		case "defaultPodTemplatePath":
			return f.decode(v, path+".defaultPodTemplatePath", &tc.DefaultPodTemplatePath)
		case "labels":
			return f.decode(v, path+".labels", &tc.Labels)
		}
		// metricsCollectorConfig and defaultThresholdMetricSelector choose
		// what scheduler_perf collects and compares; placer-bench reports
		// its own fixed set (docs/upstream.md).
		return nil
	})
	if err != nil {
		return nil, err
	}
	if tc.Name == "" {
		return nil, f.errAt(n, "%s.name: required", path)
	}
	path = tc.Name
	if template == nil || len(template.Content) == 0 {
		return nil, f.errAt(n, "%s: no ops in workloadTemplate", path)
	}
	if template.Kind != yaml.SequenceNode {
		return nil, f.errAt(template, "%s.workloadTemplate: want a list of ops", path)
	}
	for i, on := range template.Content {
		op, err := f.parseOp(on, fmt.Sprintf("%s.workloadTemplate[%d]", path, i))
		if err != nil {
			return nil, err
		}
		tc.Template = append(tc.Template, op)
	}
	if workloads == nil || workloads.Kind != yaml.SequenceNode || len(workloads.Content) == 0 {
		return nil, f.errAt(n, "%s: no workloads", path)
	}
	seen := map[string]bool{}
	for i, wn := range workloads.Content {
		w, err := f.parseWorkload(wn, fmt.Sprintf("%s.workloads[%d]", path, i))
		if err != nil {
			return nil, err
		}
		if seen[w.Name] {
			return nil, f.errAt(wn, "%s: workload name %q is not unique", path, w.Name)
		}
		seen[w.Name] = true
		tc.Workloads = append(tc.Workloads, w)
	}
	return tc, nil
}

func (f *File) parseWorkload(n *yaml.Node, path string) (*Workload, error) {
	w := &Workload{Line: n.Line}
	known := []string{"name", "params", "labels", "threshold", "thresholdMetricSelector", "featureGates"}
	err := f.fields(n, path, known, func(key string, v *yaml.Node) error {
		switch key {
		case "name":
			return f.decode(v, path+".name", &w.Name)
		case "params":
			return f.decode(v, path+".params", &w.Params)
		case "labels":
			return f.decode(v, path+".labels", &w.Labels)
		case "threshold":
			return f.decode(v, path+".threshold", &w.Threshold)
		case "featureGates":
			return f.decode(v, path+".featureGates", &w.FeatureGates)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if w.Name == "" {
		return nil, f.errAt(n, "%s.name: required", path)
	}
	if w.Threshold < 0 {
		return nil, f.errAt(n, "%s.threshold: %v is negative", path, w.Threshold)
	}
	return w, nil
}

func (f *File) parseOp(n *yaml.Node, path string) (*Op, error) {
	if n.Kind != yaml.MappingNode {
		return nil, f.errAt(n, "%s: want an op (a mapping with opcode)", path)
	}
	op := &Op{Line: n.Line}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, "opcode") {
			op.Code = n.Content[i+1].Value
		}
	}
	if op.Code == "" {
		return nil, f.errAt(n, "%s.opcode: required", path)
	}
	path += " (" + op.Code + ")"
	var err error
	switch op.Code {
	case OpCreateNodes:
		op.CreateNodes = &CreateNodesOp{}
		err = f.decode(n, path, op.CreateNodes)
		if err == nil {
			err = f.checkCount(n, path, op.CreateNodes.Count, op.CreateNodes.CountParam)
		}
	case OpCreateNamespaces:
		op.CreateNamespaces = &CreateNamespacesOp{}
		err = f.decode(n, path, op.CreateNamespaces)
		if err == nil {
			err = f.checkCount(n, path, op.CreateNamespaces.Count, op.CreateNamespaces.CountParam)
		}
	case OpCreatePods:
		op.CreatePods = &CreatePodsOp{}
		err = f.decode(n, path, op.CreatePods)
		if err == nil {
			err = f.checkCreatePods(n, path, op.CreatePods)
		}
	case OpCreatePodSets:
		op.CreatePodSets = &CreatePodSetsOp{}
		err = f.decode(n, path, op.CreatePodSets)
		if err == nil {
			err = f.checkCount(n, path, op.CreatePodSets.Count, op.CreatePodSets.CountParam)
		}
		if err == nil {
			err = f.checkCreatePods(n, path+".createPodsOp", &op.CreatePodSets.CreatePodsOp)
		}
	case OpDeletePods:
		op.DeletePods = &DeletePodsOp{}
		err = f.decode(n, path, op.DeletePods)
		if err == nil && op.DeletePods.DeletePodsPerSecond < 0 {
			err = f.errAt(n, "%s.deletePodsPerSecond: %d is negative", path, op.DeletePods.DeletePodsPerSecond)
		}
		if r := op.DeletePods.DeletePodsPerSecond; err == nil && r > maxPerSecond {
			err = f.errAt(n, "%s.deletePodsPerSecond: %d is more than %d, one a nanosecond", path, r, maxPerSecond)
		}
	case OpCreateAny:
		op.CreateAny = &CreateAnyOp{}
		err = f.decode(n, path, op.CreateAny)
		if err == nil && op.CreateAny.TemplatePath == "" {
			err = f.errAt(n, "%s.templatePath: required", path)
		}
		if err == nil && op.CreateAny.CountParam != "" && !strings.HasPrefix(op.CreateAny.CountParam, "$") {
			err = f.errAt(n, "%s.countParam: %q must start with $", path, op.CreateAny.CountParam)
		}
		if c := op.CreateAny.Count; err == nil && c != nil {
			if *c < 0 {
				err = f.errAt(n, "%s.count: %d is negative", path, *c)
			} else {
				err = f.checkLiteral(n, path+".count", int64(*c))
			}
		}
	case OpChurn:
		op.Churn = &ChurnOp{}
		err = f.decode(n, path, op.Churn)
		if err == nil {
			err = f.checkChurn(n, path, op.Churn)
		}
	case OpBarrier:
		op.Barrier = &BarrierOp{}
		err = f.decode(n, path, op.Barrier)
		if s := op.Barrier.StageRequirement; err == nil && s != "" && s != StageScheduled && s != StageAttempted {
			err = f.errAt(n, "%s.stageRequirement: %q: want %s or %s", path, s, StageScheduled, StageAttempted)
		}
	case OpSleep:
		op.Sleep = &SleepOp{}
		err = f.decode(n, path, op.Sleep)
	case OpStartCollectingMetrics:
		op.StartCollecting = &StartCollectingMetricsOp{}
		err = f.decode(n, path, op.StartCollecting)
		if err == nil && len(op.StartCollecting.Namespaces) == 0 {
			err = f.errAt(n, "%s.namespaces: required", path)
		}
	case OpStopCollectingMetrics:
		err = f.decode(n, path, &stopCollectingMetricsOp{})
	default:
		if !unsupported[op.Code] {
			known := append(append([]string{}, Supported...), sortedKeys(unsupported)...)
			sort.Strings(known)
			return nil, f.errAt(n, "%s: unknown opcode %q (scheduler_perf's are %s)", path, op.Code, strings.Join(known, ", "))
		}
		op.Unsupported = true
	}
	if err != nil {
		return nil, err
	}
	return op, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkCount accepts a non-negative count or a "$param".
func (f *File) checkCount(n *yaml.Node, path string, count int, param string) error {
	if param != "" {
		if !strings.HasPrefix(param, "$") {
			return f.errAt(n, "%s.countParam: %q must start with $", path, param)
		}
		return nil
	}
	if count < 0 {
		return f.errAt(n, "%s.count: %d is negative", path, count)
	}
	return f.checkLiteral(n, path+".count", int64(count))
}

func (f *File) checkCreatePods(n *yaml.Node, path string, op *CreatePodsOp) error {
	if err := f.checkCount(n, path, op.Count, op.CountParam); err != nil {
		return err
	}
	if op.CollectMetrics && op.SkipWaitToCompletion {
		return f.errAt(n, "%s: collectMetrics and skipWaitToCompletion cannot both be true", path)
	}
	if op.SkipWaitToCompletion && op.SteadyState {
		return f.errAt(n, "%s: skipWaitToCompletion and steadyState cannot both be true", path)
	}
	if op.DurationParam != "" && !strings.HasPrefix(op.DurationParam, "$") {
		return f.errAt(n, "%s.durationParam: %q must start with $", path, op.DurationParam)
	}
	if (op.PersistentVolumeClaimTemplatePath == nil) != (op.PersistentVolumeTemplatePath == nil) {
		return f.errAt(n, "%s: persistentVolumeTemplatePath and persistentVolumeClaimTemplatePath go together", path)
	}
	return nil
}

func (f *File) checkChurn(n *yaml.Node, path string, op *ChurnOp) error {
	switch {
	case op.Mode != ChurnCreate && op.Mode != ChurnRecreate:
		return f.errAt(n, "%s.mode: %q: want %s or %s", path, op.Mode, ChurnCreate, ChurnRecreate)
	case op.Number < 0:
		return f.errAt(n, "%s.number: %d is negative", path, op.Number)
	case op.Mode == ChurnRecreate && op.Number == 0:
		return f.errAt(n, "%s.number: must be positive in mode %s", path, ChurnRecreate)
	case op.Number > limits.MaxCount:
		return f.checkLiteral(n, path+".number", int64(op.Number))
	case op.IntervalMilliseconds < 0 || op.IntervalMilliseconds > limits.MaxCount:
		// Negative, or past time.Duration's range once in nanoseconds, it
		// would make churn's ticker panic.
		return f.errAt(n, "%s.intervalMilliseconds: %d: want 0 (the default, 500) to %d", path, op.IntervalMilliseconds, int64(limits.MaxCount))
	case len(op.TemplatePaths) == 0:
		return f.errAt(n, "%s.templatePaths: at least one template is required", path)
	}
	return nil
}
