package upstream

import (
	"fmt"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// checkLiteral refuses a literal count above limits.MaxCount when the file
// is read: Kubernetes counts are int32, and the harness sizes loops by them.
func (f *File) checkLiteral(n *yaml.Node, path string, v int64) error {
	if err := limits.CheckCount(path, v); err != nil {
		return f.errAt(n, "%v", err)
	}
	return nil
}

// maxPerSecond bounds a rate that becomes a ticker's interval (a second
// divided by it): above a billion the interval is zero, and time.NewTicker
// panics on that.
const maxPerSecond = 1_000_000_000

// countSource names where a step's count came from, for a refusal: the
// literal field, or the param and whether --set gave it.
func countSource(param string, sets map[string]int) string {
	if param == "" {
		return "count"
	}
	src := "countParam " + param
	if _, ok := sets[param[1:]]; ok {
		src += fmt.Sprintf(" (--set %s=%d)", param[1:], sets[param[1:]])
	}
	return src
}

// objects adds up what a plan creates: nodes, and pods with every other
// object of a template (namespaces, createAny's objects, churn's) counted
// at a pod's weight. It is an upper bound: deletePods and churn's deletions
// are not subtracted, and churn in create mode without a number, which
// goes on until the workload ends, counts as one object a template.
func (p *Plan) objects(sets map[string]int) limits.Total {
	var t limits.Total
	where := func(s *Step, param string) string {
		return fmt.Sprintf("%s:%d: %s/%s: %s %s", p.File.Path, s.Line, p.Case.Name, p.Workload.Name, s.Code, countSource(param, sets))
	}
	for _, s := range p.Steps {
		n := int64(s.Count)
		switch {
		case s.CreateNodes != nil:
			t.AddNodes(where(s, s.CreateNodes.CountParam), n)
		case s.CreatePods != nil:
			// A pod with a volume brings its claim and volume along.
			if s.PVTemplate != nil {
				n = limits.Mul(n, 3)
			}
			t.AddPods(where(s, s.CreatePods.CountParam), n)
		case s.CreateNamespaces != nil:
			t.AddPods(where(s, s.CreateNamespaces.CountParam), n)
		case s.CreateAny != nil:
			t.AddPods(where(s, s.CreateAny.CountParam), n)
		case s.Churn != nil:
			t.AddPods(fmt.Sprintf("%s:%d: %s/%s: churn number × templatePaths", p.File.Path, s.Line, p.Case.Name, p.Workload.Name),
				limits.Mul(int64(max(s.Churn.Number, 1)), int64(len(s.ChurnTemplates))))
		}
	}
	return t
}
