package upstream

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/featuregate"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// Plan is one workload of one test case, ready to run: params substituted,
// createPodSets unrolled, every template found and decoded once.
type Plan struct {
	File     *File
	Case     *TestCase
	Workload *Workload
	// Params are the workload's after --set.
	Params map[string]any
	// FeatureGates are the case's, overridden by the workload's.
	FeatureGates map[string]bool
	Steps        []*Step
}

// Name is "<test case>/<workload>", as scheduler_perf names the benchmark.
func (p *Plan) Name() string { return p.Case.Name + "/" + p.Workload.Name }

// Step is one op of the unrolled template with its values resolved.
type Step struct {
	// Index numbers the steps as scheduler_perf numbers ops after
	// unrolling createPodSets: default namespaces are "namespace-<Index>".
	Index int
	Code  string
	Line  int
	// Count is the op's resolved count (nodes, namespaces, pods, objects).
	Count int
	// Duration is sleep's, or steady-state createPods's.
	Duration time.Duration
	// Namespace is where createPods, churn, createAny and deletePods work.
	Namespace string

	CreateNodes      *CreateNodesOp
	CreateNamespaces *CreateNamespacesOp
	CreatePods       *CreatePodsOp
	DeletePods       *DeletePodsOp
	CreateAny        *CreateAnyOp
	Churn            *ChurnOp
	Barrier          *BarrierOp
	StartCollecting  *StartCollectingMetricsOp

	// Templates, loaded and checked by Plan.
	NodeTemplate      *objectTemplate // nil: scheduler_perf's default node
	NamespaceTemplate *objectTemplate
	PodTemplate       *objectTemplate // nil: scheduler_perf's default pod
	PVTemplate        *objectTemplate
	PVCTemplate       *objectTemplate
	AnyTemplate       *objectTemplate
	ChurnTemplates    []*objectTemplate
}

// ErrUnsupportedOp is wrapped by Plan's error for a case using an op
// placer-bench does not run.
var ErrUnsupportedOp = errors.New("op not supported by placer-bench")

// Select finds a workload by "<test case>/<workload>", or by a test case
// name that has one workload, or by a workload name that only one case has.
// An empty name selects the file's only workload.
func (f *File) Select(name string) (*TestCase, *Workload, error) {
	type match struct {
		tc *TestCase
		w  *Workload
	}
	var all, found []match
	for _, tc := range f.Cases {
		for _, w := range tc.Workloads {
			m := match{tc, w}
			all = append(all, m)
			full := tc.Name + "/" + w.Name
			switch {
			case name == "", name == full:
				found = append(found, m)
			case !strings.Contains(name, "/") && (name == tc.Name || name == w.Name):
				found = append(found, m)
			}
		}
	}
	if len(found) == 1 {
		return found[0].tc, found[0].w, nil
	}
	list := func(ms []match) string {
		names := make([]string, len(ms))
		for i, m := range ms {
			names[i] = m.tc.Name + "/" + m.w.Name
		}
		return strings.Join(names, "\n  ")
	}
	switch {
	case name == "":
		return nil, nil, fmt.Errorf("%s has %d workloads: choose one with --case NAME/WORKLOAD:\n  %s", f.Path, len(all), list(all))
	case len(found) == 0:
		return nil, nil, fmt.Errorf("--case %s: %s has no such workload; it has:\n  %s", name, f.Path, list(all))
	default:
		return nil, nil, fmt.Errorf("--case %s is ambiguous in %s: it matches\n  %s", name, f.Path, list(found))
	}
}

// Plan resolves a selected workload: params (sets override the workload's
// own, each of which must exist), templates (every one read and decoded
// now, so that a bad one stops the run before it starts) and feature gates.
// The objects it would create are checked against the default object
// ceiling (limits.Default); PlanWithCeiling takes --max-objects.
func (f *File) Plan(tc *TestCase, w *Workload, sets map[string]int) (*Plan, error) {
	return f.PlanWithCeiling(tc, w, sets, 0)
}

// PlanWithCeiling is Plan with the object ceiling of --max-objects
// (limits.Ceiling: 0 is the default).
func (f *File) PlanWithCeiling(tc *TestCase, w *Workload, sets map[string]int, maxObjects int) (*Plan, error) {
	ceiling, err := limits.Ceiling(maxObjects)
	if err != nil {
		return nil, err
	}
	p := &Plan{File: f, Case: tc, Workload: w, Params: map[string]any{}, FeatureGates: map[string]bool{}}
	for k, v := range w.Params {
		p.Params[k] = v
	}
	for _, name := range sortedKeys(sets) {
		if _, ok := w.Params[name]; !ok {
			return nil, fmt.Errorf("--set %s: workload %s/%s has no such param; it has %s", name, tc.Name, w.Name, strings.Join(sortedKeys(w.Params), ", "))
		}
		p.Params[name] = sets[name]
	}
	for k, v := range tc.FeatureGates {
		p.FeatureGates[k] = v
	}
	for k, v := range w.FeatureGates {
		p.FeatureGates[k] = v
	}
	// An op placer-bench cannot run is the first thing to report: nothing
	// else about the case matters then.
	for i, op := range tc.Template {
		if op.Unsupported {
			return nil, fmt.Errorf("%s:%d: %s.workloadTemplate[%d]: %w: %q (it runs %s)",
				f.Path, op.Line, tc.Name, i, ErrUnsupportedOp, op.Code, strings.Join(Supported, ", "))
		}
	}
	known := utilfeature.DefaultMutableFeatureGate.GetAll()
	for _, name := range sortedKeys(p.FeatureGates) {
		if _, ok := known[featuregate.Feature(name)]; !ok {
			line := tc.Line
			if _, ok := w.FeatureGates[name]; ok {
				line = w.Line
			}
			return nil, fmt.Errorf("%s:%d: %s/%s: featureGates: unknown feature gate %q", f.Path, line, tc.Name, w.Name, name)
		}
	}
	r := &resolver{file: f, params: p.Params, sets: sets, ceiling: ceiling, used: map[string]bool{}}
	for i, op := range tc.Template {
		steps, err := r.steps(op, len(p.Steps), tc)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s/%s: workloadTemplate[%d] (%s): %w", f.Path, op.Line, tc.Name, w.Name, i, op.Code, err)
		}
		p.Steps = append(p.Steps, steps...)
	}
	var unused []string
	for k := range w.Params {
		if !r.used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, fmt.Errorf("%s:%d: workload %s/%s: params %s are defined but no op uses them", f.Path, w.Line, tc.Name, w.Name, strings.Join(unused, ", "))
	}
	total := p.objects(sets)
	if err := total.Check(ceiling); err != nil {
		return nil, err
	}
	return p, nil
}

// resolver substitutes params and loads templates, caching each file.
type resolver struct {
	file   *File
	params map[string]any
	// sets are the command line's --set, named in errors; ceiling bounds
	// what a step may unroll into before the plan's total is checked.
	sets      map[string]int
	ceiling   int
	used      map[string]bool
	templates map[string]*objectTemplate
}

// lookup finds a "$param"'s value and marks the param used, so that count
// and duration agree on what an undefined param is and on which params the
// plan reads.
func (r *resolver) lookup(param string) (any, error) {
	name := strings.TrimPrefix(param, "$")
	r.used[name] = true
	v, ok := r.params[name]
	if !ok {
		return nil, fmt.Errorf("param %s is not defined by the workload", param)
	}
	return v, nil
}

// count resolves a count: the literal, or the "$param".
func (r *resolver) count(literal int, param string) (int, error) {
	if param == "" {
		return literal, nil
	}
	v, err := r.lookup(param)
	if err != nil {
		return 0, err
	}
	var n int
	switch v := v.(type) {
	case int:
		n = v
	case float64:
		// Above an int64, int(v) is undefined: refuse it as too large
		// rather than as not an integer.
		if v > limits.MaxCount {
			return 0, fmt.Errorf("%s: %s is more than %d, the most any count may be (Kubernetes counts are 32-bit)",
				r.source(param), strconv.FormatFloat(v, 'f', -1, 64), int64(limits.MaxCount))
		}
		if v != float64(int(v)) {
			return 0, fmt.Errorf("param %s is %v; want an integer", param, v)
		}
		n = int(v)
	default:
		return 0, fmt.Errorf("param %s is %v (%T); want an integer", param, v, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("param %s is %d; want at least 0", param, n)
	}
	if err := limits.CheckCount(r.source(param), int64(n)); err != nil {
		return 0, err
	}
	return n, nil
}

// source names a param for an error, and the --set that gave it if one did.
func (r *resolver) source(param string) string {
	name := strings.TrimPrefix(param, "$")
	if v, ok := r.sets[name]; ok {
		return fmt.Sprintf("param %s (--set %s=%d)", param, name, v)
	}
	return "param " + param
}

// duration resolves a duration: the literal, or the "$param" (a string
// such as "30s").
func (r *resolver) duration(literal time.Duration, param string) (time.Duration, error) {
	if param == "" {
		return literal, nil
	}
	v, err := r.lookup(param)
	if err != nil {
		return 0, err
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("param %s is %v (%T); want a duration such as \"30s\"", param, v, v)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("param %s: %w", param, err)
	}
	return d, nil
}

// template loads a template file, relative to the config file's directory.
func (r *resolver) template(path string) (*objectTemplate, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.file.Dir, path)
	}
	if t, ok := r.templates[path]; ok {
		return t, nil
	}
	t, err := loadTemplate(path)
	if err != nil {
		return nil, err
	}
	if r.templates == nil {
		r.templates = map[string]*objectTemplate{}
	}
	r.templates[path] = t
	return t, nil
}

// typed loads a template and checks that its first and last objects decode
// into new(T).
func typed[T any](r *resolver, path *string, count int) (*objectTemplate, error) {
	if path == nil {
		return nil, nil
	}
	t, err := r.template(*path)
	if err != nil {
		return nil, err
	}
	for _, i := range []int{0, max(count-1, 0)} {
		if err := t.decodeInto(i, max(count, 1), new(T)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (r *resolver) steps(op *Op, index int, tc *TestCase) ([]*Step, error) {
	s := &Step{Index: index, Code: op.Code, Line: op.Line}
	var err error
	switch op.Code {
	case OpCreateNodes:
		o := *op.CreateNodes
		s.CreateNodes = &o
		if s.Count, err = r.count(o.Count, o.CountParam); err != nil {
			return nil, err
		}
		if strategies := btoi(o.NodeAllocatableStrategy != nil) + btoi(o.LabelNodePrepareStrategy != nil) + btoi(o.UniqueNodeLabelStrategy != nil); strategies > 1 {
			// scheduler_perf silently takes the first; a second one is
			// surely a mistake.
			return nil, fmt.Errorf("%d node strategies; give at most one", strategies)
		}
		if l := o.LabelNodePrepareStrategy; l != nil && (l.LabelKey == "" || len(l.LabelValues) == 0) {
			return nil, errors.New("labelNodePrepareStrategy needs labelKey and labelValues")
		}
		if u := o.UniqueNodeLabelStrategy; u != nil && u.LabelKey == "" {
			return nil, errors.New("uniqueNodeLabelStrategy needs labelKey")
		}
		s.NodeTemplate, err = typed[v1.Node](r, o.NodeTemplatePath, s.Count)
	case OpCreateNamespaces:
		o := *op.CreateNamespaces
		s.CreateNamespaces = &o
		if s.Count, err = r.count(o.Count, o.CountParam); err != nil {
			return nil, err
		}
		s.NamespaceTemplate, err = typed[v1.Namespace](r, o.NamespaceTemplatePath, s.Count)
	case OpCreatePods:
		return r.createPods(*op.CreatePods, s, tc)
	case OpCreatePodSets:
		o := op.CreatePodSets
		sets, err := r.count(o.Count, o.CountParam)
		if err != nil {
			return nil, err
		}
		// Each set becomes a step (and a namespace) before the plan's
		// total is checked: bound them first.
		if sets > r.ceiling {
			what := "count"
			if o.CountParam != "" {
				what = r.source(o.CountParam)
			}
			return nil, fmt.Errorf("%s: %d sets, more than the ceiling of %d objects; if that is meant, raise it with %s", what, sets, r.ceiling, limits.Flag)
		}
		var out []*Step
		for i := range sets {
			pods := o.CreatePodsOp
			ns := fmt.Sprintf("%s-%d", o.NamespacePrefix, i)
			pods.Namespace = &ns
			one, err := r.createPods(pods, &Step{Index: index + i, Code: OpCreatePods, Line: op.Line}, tc)
			if err != nil {
				return nil, err
			}
			out = append(out, one...)
		}
		return out, nil
	case OpDeletePods:
		o := *op.DeletePods
		s.DeletePods, s.Namespace = &o, o.Namespace
	case OpCreateAny:
		o := *op.CreateAny
		s.CreateAny, s.Namespace, s.Count = &o, o.Namespace, 1
		if o.Count != nil {
			s.Count = *o.Count
		}
		if o.CountParam != "" {
			if s.Count, err = r.count(0, o.CountParam); err != nil {
				return nil, err
			}
		}
		if s.AnyTemplate, err = r.template(o.TemplatePath); err != nil {
			return nil, err
		}
		for _, i := range []int{0, max(s.Count-1, 0)} {
			_, kind, err := s.AnyTemplate.decodeObject(i, max(s.Count, 1))
			if err != nil {
				return nil, err
			}
			if kind.namespaced != (o.Namespace != "") {
				return nil, fmt.Errorf("%s: namespace %q does not suit a %s object", o.TemplatePath, o.Namespace, scope(kind))
			}
		}
	case OpChurn:
		o := *op.Churn
		s.Churn = &o
		s.Namespace = fmt.Sprintf("namespace-%d", index)
		if o.Namespace != nil {
			s.Namespace = *o.Namespace
		}
		for _, path := range o.TemplatePaths {
			t, err := r.template(path)
			if err != nil {
				return nil, err
			}
			if _, _, err := t.decodeObject(0, 1); err != nil {
				return nil, err
			}
			s.ChurnTemplates = append(s.ChurnTemplates, t)
		}
	case OpBarrier:
		o := *op.Barrier
		if o.StageRequirement == "" {
			o.StageRequirement = StageScheduled
		}
		s.Barrier = &o
	case OpSleep:
		s.Duration, err = r.duration(op.Sleep.Duration.Duration, op.Sleep.DurationParam)
	case OpStartCollectingMetrics:
		o := *op.StartCollecting
		s.StartCollecting = &o
	case OpStopCollectingMetrics:
	}
	if err != nil {
		return nil, err
	}
	return []*Step{s}, nil
}

func (r *resolver) createPods(o CreatePodsOp, s *Step, tc *TestCase) ([]*Step, error) {
	var err error
	s.CreatePods = &o
	if s.Count, err = r.count(o.Count, o.CountParam); err != nil {
		return nil, err
	}
	if s.Duration, err = r.duration(o.Duration.Duration, o.DurationParam); err != nil {
		return nil, err
	}
	if o.SteadyState && s.Duration <= 0 {
		return nil, errors.New("steadyState needs a duration")
	}
	s.Namespace = fmt.Sprintf("namespace-%d", s.Index)
	if o.Namespace != nil {
		s.Namespace = *o.Namespace
	}
	path := o.PodTemplatePath
	if path == nil && tc.DefaultPodTemplatePath != "" {
		path = &tc.DefaultPodTemplatePath
	}
	if s.PodTemplate, err = typed[v1.Pod](r, path, s.Count); err != nil {
		return nil, err
	}
	if s.PVTemplate, err = typed[v1.PersistentVolume](r, o.PersistentVolumeTemplatePath, s.Count); err != nil {
		return nil, err
	}
	if s.PVCTemplate, err = typed[v1.PersistentVolumeClaim](r, o.PersistentVolumeClaimTemplatePath, s.Count); err != nil {
		return nil, err
	}
	return []*Step{s}, nil
}

func scope(k *objectKind) string {
	if k.namespaced {
		return "namespaced"
	}
	return "cluster-scoped"
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
