package workload

import (
	"fmt"
	"maps"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/placer-dev/placer/internal/fieldcheck"
)

const (
	defaultBarrierTimeout = 10 * time.Minute
	defaultFillMaxPods    = 100000
)

func (f *File) validate() field.ErrorList {
	var errs field.ErrorList
	if f.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), f.APIVersion, []string{APIVersion}))
	}
	if f.Kind != Kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), f.Kind, []string{Kind}))
	}
	errs = append(errs, dnsLabel(field.NewPath("name"), f.Name)...)
	errs = append(errs, f.validateCluster(field.NewPath("cluster"))...)
	errs = append(errs, f.validateWorkloads(field.NewPath("workloads"))...)
	errs = append(errs, f.validateOps(field.NewPath("ops"))...)
	errs = append(errs, f.validateCountCeilings()...)
	if f.Quality != nil {
		for r, q := range f.Quality.ReferencePod {
			if q.Sign() <= 0 {
				errs = append(errs, field.Invalid(field.NewPath("quality", "referencePod").Key(string(r)), q.String(), "must be positive"))
			}
		}
	}
	return errs
}

func dnsLabel(p *field.Path, s string) field.ErrorList {
	return fieldcheck.Name(p, s, "", utilvalidation.IsDNS1123Label)
}

// uniqueLabel checks a name that must be a DNS label and unique in its list.
func uniqueLabel(p *field.Path, s string, list *fieldcheck.Unique) field.ErrorList {
	return append(dnsLabel(p, s), list.Check(p, s)...)
}

func nonNegative(p *field.Path, c Count) field.ErrorList {
	if c.Value < 0 {
		return field.ErrorList{field.Invalid(p, c.Value, "must not be negative")}
	}
	return nil
}

func (f *File) validateCluster(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	zp := p.Child("zones")
	// A snapshot brings its nodes in their zones; node groups need zones.
	if len(f.Cluster.Zones) == 0 && (f.Cluster.Snapshot == "" || len(f.Cluster.NodeGroups) > 0) {
		errs = append(errs, field.Required(zp, "a zone count or a list of zone names"))
	}
	zones := sets.New[string]()
	for i, z := range f.Cluster.Zones {
		for _, msg := range utilvalidation.IsValidLabelValue(z) {
			errs = append(errs, field.Invalid(zp.Index(i), z, msg))
		}
		if z == "" {
			errs = append(errs, field.Required(zp.Index(i), "zone name"))
		}
		if zones.Has(z) {
			errs = append(errs, field.Duplicate(zp.Index(i), z))
		}
		zones.Insert(z)
	}
	gp := p.Child("nodeGroups")
	if len(f.Cluster.NodeGroups) == 0 && f.Cluster.Snapshot == "" {
		errs = append(errs, field.Required(gp, "at least one node group (or a snapshot)"))
	}
	var names fieldcheck.Unique
	for i, g := range f.Cluster.NodeGroups {
		ip := gp.Index(i)
		errs = append(errs, uniqueLabel(ip.Child("name"), g.Name, &names)...)
		errs = append(errs, nonNegative(ip.Child("count"), g.Count)...)
		for j, z := range g.Zones {
			if !zones.Has(z) {
				errs = append(errs, field.NotSupported(ip.Child("zones").Index(j), z, f.Cluster.Zones))
			}
		}
		for _, r := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
			if q, ok := g.Capacity[r]; !ok || q.Sign() <= 0 {
				errs = append(errs, field.Required(ip.Child("capacity").Key(string(r)), "every node needs some"))
			}
		}
		for r, q := range g.Capacity {
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(ip.Child("capacity").Key(string(r)), q.String(), "must not be negative"))
			}
		}
		errs = append(errs, f.validateOccupied(ip.Child("occupied"), g)...)
		for j, t := range g.Taints {
			if !slices.Contains([]v1.TaintEffect{v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute}, t.Effect) {
				errs = append(errs, field.NotSupported(ip.Child("taints").Index(j).Child("effect"), t.Effect,
					[]v1.TaintEffect{v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute}))
			}
		}
	}
	return errs
}

// Occupied's bounds: a node left with no room is no test of placement, and
// pods of one scheduler per node are plenty to model another's load.
const (
	maxOccupiedPercent = 95
	maxOccupiedJitter  = 50
)

// validateOccupied checks a node group's load of other schedulers: a
// percent for each of its zones, within bounds with its jitter, and fewer
// pods per node than the node has room for.
func (f *File) validateOccupied(p *field.Path, g NodeGroup) field.ErrorList {
	o := g.Occupied
	if o == nil {
		return nil
	}
	var errs field.ErrorList
	zones := g.Zones
	if len(zones) == 0 {
		zones = f.Cluster.Zones
	}
	if f.Cluster.Snapshot != "" && len(zones) == 0 {
		return field.ErrorList{field.Forbidden(p, "a group without zones (the snapshot's) cannot say how full each zone is; give the group zones")}
	}
	pp := p.Child("percent")
	for _, z := range zones {
		if _, ok := o.Percent[z]; !ok {
			errs = append(errs, field.Required(pp.Key(z), "every zone of the group needs a percent (0 for none)"))
		}
	}
	for _, z := range slices.Sorted(maps.Keys(o.Percent)) {
		v := o.Percent[z]
		if !slices.Contains(zones, z) {
			errs = append(errs, field.NotSupported(pp.Key(z), z, zones))
			continue
		}
		if v < 0 || v > maxOccupiedPercent {
			errs = append(errs, field.Invalid(pp.Key(z), v, fmt.Sprintf("must be in the range [0, %d]", maxOccupiedPercent)))
		}
	}
	if o.Jitter < 0 || o.Jitter > maxOccupiedJitter {
		errs = append(errs, field.Invalid(p.Child("jitter"), o.Jitter, fmt.Sprintf("must be in the range [0, %d] (points of percent)", maxOccupiedJitter)))
	}
	slots := g.podSlots()
	if o.Pods < 1 || int64(o.Pods) >= slots {
		errs = append(errs, field.Invalid(p.Child("pods"), o.Pods,
			fmt.Sprintf("must be at least 1 and below the node's %d pod slots, leaving room for the run's pods", slots)))
	}
	return errs
}

func (f *File) validateWorkloads(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var names fieldcheck.Unique
	for i, w := range f.Workloads {
		ip := p.Index(i)
		errs = append(errs, uniqueLabel(ip.Child("name"), w.Name, &names)...)
		if !slices.Contains(Kinds, w.Kind) {
			errs = append(errs, field.NotSupported(ip.Child("kind"), w.Kind, Kinds))
		}
		errs = append(errs, dnsLabel(ip.Child("namespace"), w.Namespace)...)
		if w.Count.Value < 1 {
			errs = append(errs, field.Invalid(ip.Child("count"), w.Count.Value, "must be at least 1"))
		}
		errs = append(errs, nonNegative(ip.Child("replicas"), w.Replicas)...)
		for r, q := range w.Pod.Requests {
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(ip.Child("pod", "requests").Key(string(r)), q.String(), "must not be negative"))
			}
		}
		if len(w.VolumeClaims) > 0 && w.Kind != KindStatefulSet {
			errs = append(errs, field.Forbidden(ip.Child("volumeClaims"), "only a StatefulSet has volume claim templates"))
		}
		var claims fieldcheck.Unique
		for j, c := range w.VolumeClaims {
			cp := ip.Child("volumeClaims").Index(j)
			errs = append(errs, uniqueLabel(cp.Child("name"), c.Name, &claims)...)
			if c.StorageClassName == "" {
				errs = append(errs, field.Required(cp.Child("storageClassName"), ""))
			}
			if c.Size.Sign() <= 0 {
				errs = append(errs, field.Invalid(cp.Child("size"), c.Size.String(), "must be positive"))
			}
		}
	}
	return errs
}

// opArgs lists which arguments each op takes; any other set field is an error.
var opArgs = map[string]sets.Set[string]{
	OpCreateNodes:     sets.New("groups"),
	OpCreateWorkloads: sets.New("workloads", "rate", "measure"),
	OpBarrier:         sets.New("until", "timeout"),
	OpScale:           sets.New("workload", "replicas"),
	OpChurn:           sets.New("workload", "pods", "rounds", "interval"),
	OpRollingUpdate:   sets.New("workload", "pods", "timeout"),
	OpDelete:          sets.New("workloads"),
	OpSleep:           sets.New("duration"),
	OpZoneOutage:      sets.New("zone", "mode", "timeout"),
	OpNodeFailure:     sets.New("nodes", "mode", "timeout"),
	OpZoneRecovery:    sets.New("zone", "timeout"),
	OpFillToFailure:   sets.New("shapes", "maxPods", "timeout"),
}

// setArgs names the argument fields an op has set.
func (op Op) setArgs() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("groups", len(op.Groups) > 0)
	add("workloads", len(op.Workloads) > 0)
	add("rate", op.Rate != Count{})
	add("measure", op.Measure)
	add("until", op.Until != "")
	add("timeout", op.Timeout.Duration != 0)
	add("workload", op.Workload != "")
	add("replicas", op.Replicas != Count{})
	add("pods", op.Pods != Count{})
	add("rounds", op.Rounds != Count{})
	add("interval", op.Interval.Duration != 0)
	add("duration", op.Duration.Duration != 0)
	add("zone", op.Zone != "")
	add("mode", op.Mode != "")
	add("nodes", op.Nodes != Count{})
	add("shapes", len(op.Shapes) > 0)
	add("maxPods", op.MaxPods != Count{})
	return out
}

func (f *File) validateOps(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(f.Ops) == 0 {
		errs = append(errs, field.Required(p, "at least one op"))
	}
	groups, workloads := sets.New[string](), map[string]Workload{}
	for _, g := range f.Cluster.NodeGroups {
		groups.Insert(g.Name)
	}
	for _, w := range f.Workloads {
		workloads[w.Name] = w
	}
	for i, op := range f.Ops {
		ip := p.Index(i)
		args, ok := opArgs[op.Op]
		if !ok {
			errs = append(errs, field.NotSupported(ip.Child("op"), op.Op, OpCodes))
			continue
		}
		for _, a := range op.setArgs() {
			if !args.Has(a) {
				errs = append(errs, field.Forbidden(ip.Child(a), fmt.Sprintf("not an argument of op %s", op.Op)))
			}
		}
		for j, g := range op.Groups {
			if !groups.Has(g) {
				errs = append(errs, field.NotFound(ip.Child("groups").Index(j), g))
			}
		}
		for j, w := range op.Workloads {
			if _, ok := workloads[w]; !ok {
				errs = append(errs, field.NotFound(ip.Child("workloads").Index(j), w))
			}
		}
		errs = append(errs, nonNegative(ip.Child("rate"), op.Rate)...)
		switch op.Op {
		case OpBarrier:
			if op.Until != UntilScheduled && op.Until != UntilAttempted {
				errs = append(errs, field.NotSupported(ip.Child("until"), op.Until, []string{UntilScheduled, UntilAttempted}))
			}
		case OpScale, OpChurn, OpRollingUpdate:
			w, ok := workloads[op.Workload]
			switch {
			case op.Workload == "":
				errs = append(errs, field.Required(ip.Child("workload"), ""))
			case !ok:
				errs = append(errs, field.NotFound(ip.Child("workload"), op.Workload))
			case op.Op == OpScale && w.Kind == KindPod:
				errs = append(errs, field.Invalid(ip.Child("workload"), op.Workload, "bare pods have no controller to scale"))
			case op.Op == OpRollingUpdate && w.Kind != KindDeployment && w.Kind != KindStatefulSet:
				errs = append(errs, field.Invalid(ip.Child("workload"), op.Workload,
					fmt.Sprintf("a %s has no rolling update; only a Deployment or a StatefulSet", w.Kind)))
			}
			if op.Op == OpScale {
				errs = append(errs, nonNegative(ip.Child("replicas"), op.Replicas)...)
				break
			}
			if op.Pods.Value < 1 {
				errs = append(errs, field.Invalid(ip.Child("pods"), op.Pods.Value, "must be at least 1"))
			}
			if op.Op == OpRollingUpdate {
				break
			}
			if op.Rounds.Value < 1 {
				errs = append(errs, field.Invalid(ip.Child("rounds"), op.Rounds.Value, "must be at least 1"))
			}
			if op.Interval.Duration <= 0 {
				errs = append(errs, field.Invalid(ip.Child("interval"), op.Interval.String(), "must be positive"))
			}
		case OpSleep:
			if op.Duration.Duration <= 0 {
				errs = append(errs, field.Invalid(ip.Child("duration"), op.Duration.String(), "must be positive"))
			}
		case OpZoneOutage, OpZoneRecovery:
			if op.Zone == "" {
				errs = append(errs, field.Required(ip.Child("zone"), ""))
			} else if !slices.Contains(f.Cluster.Zones, op.Zone) {
				errs = append(errs, field.NotSupported(ip.Child("zone"), op.Zone, f.Cluster.Zones))
			}
		case OpNodeFailure:
			if op.Nodes.Value < 1 {
				errs = append(errs, field.Invalid(ip.Child("nodes"), op.Nodes.Value, "must be at least 1"))
			}
		case OpFillToFailure:
			if len(op.Shapes) == 0 {
				errs = append(errs, field.Required(ip.Child("shapes"), "at least one pod shape"))
			}
			var names fieldcheck.Unique
			for j, sh := range op.Shapes {
				sp := ip.Child("shapes").Index(j)
				errs = append(errs, uniqueLabel(sp.Child("name"), sh.Name, &names)...)
				if len(sh.Requests) == 0 {
					errs = append(errs, field.Required(sp.Child("requests"), "a pod of no size always fits"))
				}
				for r, q := range sh.Requests {
					if q.Sign() <= 0 {
						errs = append(errs, field.Invalid(sp.Child("requests").Key(string(r)), q.String(), "must be positive"))
					}
				}
			}
			if op.MaxPods.Value < 1 {
				errs = append(errs, field.Invalid(ip.Child("maxPods"), op.MaxPods.Value, "must be at least 1"))
			}
		}
		if (op.Op == OpZoneOutage || op.Op == OpNodeFailure) && op.Mode != OutageNotReady && op.Mode != OutageRemove {
			errs = append(errs, field.NotSupported(ip.Child("mode"), op.Mode, []string{OutageNotReady, OutageRemove}))
		}
		if op.Timeout.Duration < 0 {
			errs = append(errs, field.Invalid(ip.Child("timeout"), op.Timeout.String(), "must not be negative"))
		}
	}
	return errs
}
