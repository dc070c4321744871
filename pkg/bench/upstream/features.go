package upstream

import (
	"fmt"
	"path/filepath"
	"sort"

	"k8s.io/apimachinery/pkg/util/version"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/featuregate"
	"k8s.io/kubernetes/pkg/features"

	"github.com/placer-dev/placer/pkg/controlplane"
)

// ControlPlaneOptions are scheduler_perf's API server and etcd settings, for
// the embedded backend, so that its figures compare with upstream's:
//   - the admission plugins scheduler_perf runs without: no service account
//     controller, no kubelet to lift the not-ready taint, and templates that
//     set spec.priority directly (which Priority refuses);
//   - kube-apiserver's default request limits, API priority and fairness
//     and authorization (AlwaysAllow), which upstream's test server keeps;
//   - an etcd that syncs every write to disk, as the etcd binary
//     scheduler_perf starts does: on this project's machines that alone
//     costs scheduler_perf's SchedulingBasic about 15% of its throughput.
func ControlPlaneOptions() controlplane.Options {
	return controlplane.Options{
		DisableAdmissionPlugins: []string{"ServiceAccount", "TaintNodesByCondition", "Priority"},
		APIServerFlags: []string{"--max-requests-inflight=400", "--max-mutating-requests-inflight=200",
			"--enable-priority-and-fairness=true", "--authorization-mode=AlwaysAllow"},
		Fsync: true,
	}
}

// SchedulerConfigPath is the test case's KubeSchedulerConfiguration,
// resolved against the file's directory; empty when it names none.
func (p *Plan) SchedulerConfigPath() string {
	path := p.Case.SchedulerConfigPath
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(p.File.Dir, path)
}

// ApplyFeatureGates sets the process's feature gates (the in-process
// scheduler's, and the embedded API server's) as a workload asks, and
// returns what restores them. Like scheduler_perf, it emulates Kubernetes
// 1.33 when SchedulerQueueingHints is turned off: the gate is locked on
// from 1.34.
func ApplyFeatureGates(gates map[string]bool) (func(), error) {
	gate := utilfeature.DefaultMutableFeatureGate
	known := gate.GetAll()
	names := make([]string, 0, len(gates))
	for name := range gates {
		if _, ok := known[featuregate.Feature(name)]; !ok {
			return nil, fmt.Errorf("featureGates: unknown feature gate %q", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	before := map[string]bool{}
	for _, name := range names {
		before[name] = gate.Enabled(featuregate.Feature(name))
	}
	emulation := gate.EmulationVersion()
	restore := func() {
		// Best effort: the process ends soon after; errors cannot happen for
		// values that were in force before.
		_ = gate.SetEmulationVersion(emulation)
		_ = gate.SetFromMap(before)
	}
	if on, ok := gates[string(features.SchedulerQueueingHints)]; ok && !on {
		if err := gate.SetEmulationVersion(version.MustParse("1.33")); err != nil {
			return nil, fmt.Errorf("featureGates: emulating 1.33 for SchedulerQueueingHints=false: %w", err)
		}
	}
	if err := gate.SetFromMap(gates); err != nil {
		restore()
		return nil, fmt.Errorf("featureGates: %w", err)
	}
	return restore, nil
}
