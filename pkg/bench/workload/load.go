package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// Load reads, defaults, resolves and validates a workload file. overrides
// replace params by name (the command line's --set). Every error names the
// file, the field path and the problem, and all problems are reported at
// once, before anything runs. The run's nodes and pods are checked against
// the default object ceiling (limits.Default); LoadWithCeiling takes
// --max-objects.
func Load(path string, overrides map[string]int) (*File, error) {
	return LoadWithCeiling(path, overrides, 0)
}

// LoadWithCeiling is Load with the object ceiling of --max-objects
// (limits.Ceiling: 0 is the default).
func LoadWithCeiling(path string, overrides map[string]int, maxObjects int) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseWithCeiling(data, overrides, maxObjects)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if snap := f.Cluster.Snapshot; snap != "" && !filepath.IsAbs(snap) {
		f.Cluster.Snapshot = filepath.Join(filepath.Dir(path), snap)
	}
	return f, nil
}

// Parse is Load on bytes.
func Parse(data []byte, overrides map[string]int) (*File, error) {
	return ParseWithCeiling(data, overrides, 0)
}

// ParseWithCeiling is LoadWithCeiling on bytes.
func ParseWithCeiling(data []byte, overrides map[string]int, maxObjects int) (*File, error) {
	ceiling, err := limits.Ceiling(maxObjects)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	f := &File{}
	strict, err := sigsjson.UnmarshalStrict(j, f, sigsjson.DisallowUnknownFields)
	if err != nil {
		// A bad quantity's own error names no field: find it.
		if bad := badQuantity(j); bad != nil {
			return nil, bad
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		// YAML 1.1 reads an unquoted y, n, yes, no, on or off as a
		// boolean: a node group named n arrives as false.
		if strings.HasPrefix(msg, "cannot unmarshal bool into") && strings.HasSuffix(msg, "of type string") {
			msg += ` (YAML reads an unquoted y, n, yes, no, on, off, true or false as a boolean: quote the value, e.g. name: "n")`
		}
		return nil, errors.New(msg)
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	f.setDefaults()
	if err := f.resolve(overrides); err != nil {
		return nil, err
	}
	if errs := f.validate(); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	// Only a valid file has totals worth adding up: with every count
	// non-negative and within an int32.
	total := f.Objects()
	if err := total.Check(ceiling); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) setDefaults() {
	for i := range f.Workloads {
		w := &f.Workloads[i]
		if w.Namespace == "" {
			w.Namespace = "bench"
		}
		if w.Count == (Count{}) {
			w.Count = N(1)
		}
		if w.Replicas == (Count{}) {
			w.Replicas = N(1)
		}
	}
	for i := range f.Cluster.NodeGroups {
		if o := f.Cluster.NodeGroups[i].Occupied; o != nil && o.Pods == 0 {
			o.Pods = 1
		}
	}
	for i := range f.Ops {
		op := &f.Ops[i]
		if op.Op == OpBarrier && op.Until == "" {
			op.Until = UntilScheduled
		}
		switch op.Op {
		case OpBarrier, OpZoneOutage, OpNodeFailure, OpZoneRecovery, OpFillToFailure, OpRollingUpdate:
			if op.Timeout.Duration == 0 {
				op.Timeout.Duration = defaultBarrierTimeout
			}
		}
		if (op.Op == OpZoneOutage || op.Op == OpNodeFailure) && op.Mode == "" {
			op.Mode = OutageNotReady
		}
		if op.Op == OpFillToFailure && op.MaxPods == (Count{}) {
			op.MaxPods = N(defaultFillMaxPods)
		}
	}
}

// counts lists every Count in the file with its field path, so params can
// be resolved (and reported) in one place.
func (f *File) counts() map[string]*Count {
	out := map[string]*Count{}
	for i := range f.Cluster.NodeGroups {
		out[fmt.Sprintf("cluster.nodeGroups[%d].count", i)] = &f.Cluster.NodeGroups[i].Count
	}
	for i := range f.Workloads {
		out[fmt.Sprintf("workloads[%d].count", i)] = &f.Workloads[i].Count
		out[fmt.Sprintf("workloads[%d].replicas", i)] = &f.Workloads[i].Replicas
	}
	for i := range f.Ops {
		op := &f.Ops[i]
		for name, c := range map[string]*Count{"rate": &op.Rate, "replicas": &op.Replicas, "pods": &op.Pods, "rounds": &op.Rounds,
			"nodes": &op.Nodes, "maxPods": &op.MaxPods} {
			out[fmt.Sprintf("ops[%d].%s", i, name)] = c
		}
	}
	return out
}

// resolve applies overrides to params and params to "$param" counts.
func (f *File) resolve(overrides map[string]int) error {
	var errs []error
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := f.Params[n]; !ok {
			errs = append(errs, fmt.Errorf("--set %s=%d: the file has no param %q (params: %s)", n, overrides[n], n, paramList(f.Params)))
			continue
		}
		f.Params[n] = overrides[n]
		if f.setByFlag == nil {
			f.setByFlag = map[string]bool{}
		}
		f.setByFlag[n] = true
	}
	counts := f.counts()
	for _, p := range slices.Sorted(maps.Keys(counts)) {
		c := counts[p]
		if c.Param == "" {
			continue
		}
		v, ok := f.Params[c.Param]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: $%s is not a param (params: %s)", p, c.Param, paramList(f.Params)))
			continue
		}
		c.Value = v
	}
	return errors.Join(errs...)
}

func paramList(params map[string]int) string {
	if len(params) == 0 {
		return "none"
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// quantityFields hold resource quantities: maps of them, or (size) one.
var quantityFields = map[string]bool{"capacity": true, "requests": true, "limits": true, "referencePod": true, "size": true}

// badQuantity finds the first value under a quantity field that does not
// parse, and names its path.
func badQuantity(j []byte) error {
	var doc any
	if err := json.Unmarshal(j, &doc); err != nil {
		return nil
	}
	var walk func(p *field.Path, v any, inQuantities bool) error
	check := func(p *field.Path, v any) error {
		s := fmt.Sprint(v)
		if _, err := resource.ParseQuantity(s); err != nil {
			return field.Invalid(p, v, "not a quantity (such as 500m, 2, 16Gi)")
		}
		return nil
	}
	walk = func(p *field.Path, v any, inQuantities bool) error {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				var err error
				switch {
				case inQuantities:
					err = check(p.Key(k), t[k])
				case k == "size":
					err = check(p.Child(k), t[k])
				default:
					err = walk(p.Child(k), t[k], quantityFields[k])
				}
				if err != nil {
					return err
				}
			}
		case []any:
			for i, e := range t {
				if err := walk(p.Index(i), e, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(nil, doc, false)
}
