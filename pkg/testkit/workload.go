package testkit

import (
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// Workload is a workload the kit created: Spec.Count instances (one, named
// Spec.Name, unless Count > 1: <name>-0, <name>-1, ...) of a Deployment
// (with its ReplicaSet), a StatefulSet (with its claims), a Job, or bare
// pods. No controller runs: the kit makes what the controllers would, and
// Scale, Replace and Delete change it as they would.
type Workload struct {
	// Spec is the workload as given, defaulted as in a workload file
	// (namespace "bench", count 1, replicas 1).
	Spec workload.Workload
	// Instances are the generated objects; each instance's Pods are its
	// current pods.
	Instances []*generate.Instance

	env *Env
}

// Create creates a workload from the harness's spec (pkg/bench/workload, as
// in a workload file's workloads[]): its controller objects, claims and
// pods, named and labelled as docs/workloads.md describes. Pods that name no
// scheduler ask for Env.SchedulerName. It returns once everything is
// created, not scheduled: see WaitScheduled.
func (e *Env) Create(w workload.Workload) *Workload {
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	spec, err := e.checkWorkload(w)
	if err != nil {
		e.tb.Fatalf("testkit: Create: workload %q: %v", w.Name, err)
	}
	e.file.Workloads = append(e.file.Workloads, spec)
	out := &Workload{Spec: spec, env: e, Instances: e.gen.Workloads(e.SchedulerName, spec.Name)}
	for _, inst := range out.Instances {
		if err := e.createInstance(inst); err != nil {
			e.tb.Fatalf("testkit: Create: %v", err)
		}
	}
	e.workloads = append(e.workloads, out)
	return out
}

// checkWorkload defaults and validates a workload as the harness does one
// of a file's, and rejects a name the Env has used (generated names would
// clash).
func (e *Env) checkWorkload(w workload.Workload) (workload.Workload, error) {
	for _, have := range e.file.Workloads {
		if have.Name == w.Name {
			return w, fmt.Errorf("a workload of that name exists already in this Env")
		}
	}
	// The parser wants a cluster; this one is never used, so that a
	// workload can be checked before any node exists.
	f := &workload.File{APIVersion: workload.APIVersion, Kind: workload.Kind, Name: "testkit",
		Cluster: workload.Cluster{Zones: workload.Zones{"z"}, NodeGroups: []workload.NodeGroup{{Name: "n",
			Capacity: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1")}}}},
		Workloads: []workload.Workload{w},
		Ops:       []workload.Op{{Op: workload.OpCreateWorkloads}}}
	parsed, err := reparse(f)
	if err != nil {
		return w, err
	}
	return parsed.Workloads[0], nil
}

// createInstance creates an instance's controllers, then its claims, then
// its pods, with owner references carrying the UIDs the API assigned.
func (e *Env) createInstance(inst *generate.Instance) error {
	if len(inst.Workload.VolumeClaims) > 0 {
		e.startProvisioner()
	}
	if err := e.sim.CreateOwners(e.ctx, inst); err != nil {
		return err
	}
	for _, p := range inst.Pods {
		if _, err := e.sim.CreatePod(e.ctx, p, nil, false); err != nil {
			return err
		}
	}
	return nil
}

// Pods returns the namespaced names of the workload's current pods, in
// creation order (a StatefulSet's by ordinal).
func (w *Workload) Pods() []types.NamespacedName {
	w.env.mu.Lock()
	defer w.env.mu.Unlock()
	var out []types.NamespacedName
	for _, inst := range w.Instances {
		for _, p := range inst.Pods {
			out = append(out, types.NamespacedName{Namespace: p.Namespace, Name: p.Name})
		}
	}
	return out
}

// Placements reads the workload's current pods back from the API.
func (w *Workload) Placements() Placements {
	w.env.tb.Helper()
	return w.env.placementsOf(w.Pods())
}

// Scale sets every instance to replicas, as kubectl scale and the
// controller would: the controller object's replicas first (plugins read
// them), then pods added (a StatefulSet's next ordinals, with their claims)
// or the newest removed (a StatefulSet's highest ordinals, claims kept).
// Bare pods have no controller to scale.
func (w *Workload) Scale(replicas int) {
	e := w.env
	e.tb.Helper()
	if replicas < 0 {
		e.tb.Fatalf("testkit: Scale(%d) of %s: replicas must not be negative", replicas, w.Spec.Name)
	}
	if w.Spec.Kind == workload.KindPod {
		e.tb.Fatalf("testkit: Scale of %s: bare pods have no controller to scale", w.Spec.Name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, inst := range w.Instances {
		if err := e.sim.Scale(e.ctx, inst, replicas, false); err != nil {
			e.tb.Fatalf("testkit: Scale of %s: %v", inst.Name, err)
		}
	}
}

// Replace removes one of the workload's pods, as a node failure or an
// eviction would, and creates its replacement as the controller would: a
// StatefulSet replica under the same name with the same claims, a
// Deployment's or Job's pod under a new name, a bare pod under the same
// name. It returns the replacement's name; it is not scheduled yet.
func (w *Workload) Replace(pod string) string {
	e := w.env
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, inst := range w.Instances {
		i := slices.IndexFunc(inst.Pods, func(p *v1.Pod) bool { return p.Name == pod })
		if i < 0 {
			continue
		}
		repl, _, err := e.sim.Replace(e.ctx, inst, i, false)
		if err != nil {
			e.tb.Fatalf("testkit: Replace %s: %v", pod, err)
		}
		return repl.Name
	}
	e.tb.Fatalf("testkit: Replace: %s is not a current pod of workload %s (pods: %v)", pod, w.Spec.Name, w.podNamesLocked())
	return ""
}

func (w *Workload) podNamesLocked() []string {
	var out []string
	for _, inst := range w.Instances {
		for _, p := range inst.Pods {
			out = append(out, p.Name)
		}
	}
	return out
}

// Delete removes the workload's pods, claims and controller objects, and
// returns once the pods are gone.
func (w *Workload) Delete() {
	e := w.env
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, inst := range w.Instances {
		if err := e.sim.Delete(e.ctx, inst); err != nil {
			e.tb.Fatalf("testkit: Delete of %s: %v", w.Spec.Name, err)
		}
	}
}
