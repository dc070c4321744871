// Package replay runs a trace (pkg/bench/trace) against a backend with one
// scheduler profile in-process, and measures it as the FGD paper does:
// after each pod, the arrived workload and the unallocated GPU.
package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/placer-dev/placer/pkg/bench/measure"
	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// Options say how to replay.
type Options struct {
	// RunID labels everything the replay creates.
	RunID    string
	Protocol string
	// Seed and TargetPercent drive the FGD draw; Speed divides the
	// trace's times on the timeline.
	Seed          int64
	TargetPercent float64
	Speed         float64
	// GPUSharing is how a pod asking for part of one GPU is offered:
	// result.GPUSharingWhole (also when empty) or result.GPUSharingShare.
	GPUSharing string
	// Progress, when set, hears about once a second of the pods offered,
	// bound and found unschedulable.
	Progress func(op string, created, bound, unschedulable int)
}

// verdictTimeout bounds the wait for the scheduler's verdict on one pod:
// far longer than any scheduling cycle, so that only a stuck scheduler
// reaches it.
const verdictTimeout = 5 * time.Minute

type replay struct {
	t       *trace.Trace
	profile *measure.Profile
	backend sim.Backend
	client  kubernetes.Interface
	opts    Options
	tracker *measure.Tracker
	// workloads creates the pods, as sim creates every run's pods.
	workloads *sim.Workloads
	st        *state
	tr        *result.TraceResult
	// lastProgress rate-limits Progress.
	lastProgress time.Time
	offered      int
}

// Run replays t with profile on backend (the caller's to close).
func Run(ctx context.Context, t *trace.Trace, profile *measure.Profile, backend sim.Backend, opts Options) (*result.Result, error) {
	r := &replay{t: t, profile: profile, backend: backend, client: backend.Client(), opts: opts,
		st: newState(t),
		tr: &result.TraceResult{Trace: t.Name, Protocol: opts.Protocol, GPUSharing: opts.GPUSharing, Nodes: len(t.Nodes),
			GPUCapacityMilli: t.GPUCapacityMilli(), Placed: map[string]int{}, Failed: map[string]int{}}}
	switch opts.GPUSharing {
	case "":
		r.opts.GPUSharing, r.tr.GPUSharing = result.GPUSharingWhole, result.GPUSharingWhole
	case result.GPUSharingWhole, result.GPUSharingShare:
	default:
		return nil, fmt.Errorf("GPU sharing %q: want %s or %s", opts.GPUSharing, result.GPUSharingWhole, result.GPUSharingShare)
	}
	if r.tr.GPUCapacityMilli == 0 {
		return nil, fmt.Errorf("trace %s: the nodes have no GPUs, so unallocated GPU means nothing", t.Name)
	}
	// Everything the protocol needs is checked before anything starts.
	var pods []trace.Pod
	var events []trace.Event
	var err error
	switch opts.Protocol {
	case trace.ProtocolFGD:
		seed := opts.Seed
		r.tr.Seed, r.tr.TargetPercent = &seed, opts.TargetPercent
		pods, err = trace.DrawFGD(t, opts.Seed, opts.TargetPercent)
	case trace.ProtocolTimeline:
		r.tr.Speed = opts.Speed
		events, err = trace.Timeline(t, opts.Speed)
	default:
		err = fmt.Errorf("protocol %q: want %s or %s", opts.Protocol, trace.ProtocolFGD, trace.ProtocolTimeline)
	}
	if err != nil {
		return nil, err
	}

	// A departed pod's record is kept as it was: the replay's placements
	// have always listed where each pod went, departed or not.
	ses, err := measure.Start(ctx, profile, backend, measure.Options{RunID: opts.RunID, Namespace: Namespace, KeepDeleted: true,
		OnPod: r.st.observe, OnDelete: func(pod *v1.Pod) { r.st.forget(pod.Name) }})
	if err != nil {
		return nil, err
	}
	defer ses.Stop()
	r.tracker = ses.Tracker
	r.workloads = sim.NewWorkloads(backend, nil, opts.RunID)
	r.workloads.OnPodCreated = r.tracker.Created
	res := ses.Result
	res.Trace = r.tr

	var nodes []*v1.Node
	err = ses.Phase(0, "createNodes", func() (_ bool, err error) {
		nodes, err = r.createNodes(ctx, ses.Scheduler)
		return false, err
	})
	if err != nil {
		return nil, err
	}
	firstPod := time.Now()
	runErr := ses.Phase(1, "offer-"+opts.Protocol, func() (bool, error) {
		if opts.Protocol == trace.ProtocolFGD {
			return false, r.offerFGD(ctx, pods)
		}
		return false, r.offerTimeline(ctx, events)
	})
	r.tr.PodsOffered = r.offered
	r.tr.SharedWithoutDevice, r.tr.DeviceAnnotationError = r.st.sharesWithoutDevice()
	r.tr.Finish()
	runErr = errors.Join(runErr, ses.Finish(ctx, r.summary(nodes, firstPod)))
	res.Pods = r.offered
	return res, runErr
}

// createNodes registers the trace's nodes and waits until the scheduler
// sees them all, so that no pod is judged against part of the cluster.
func (r *replay) createNodes(ctx context.Context, sched *inprocscheduler.Scheduler) ([]*v1.Node, error) {
	_, err := r.client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	r.backend.UsedNamespace(Namespace, err == nil)
	var nodes []*v1.Node
	for i := range r.t.Nodes {
		n := node(&r.t.Nodes[i], r.opts.RunID)
		r.backend.PrepareNode(n)
		created, err := sim.CreateNode(ctx, r.client, n)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, created)
	}
	if err := sim.WaitSchedulerSeesNodes(ctx, sched.NodeView, nodes, 2*time.Minute); err != nil {
		return nil, fmt.Errorf("waiting for the scheduler to see the %d nodes: %w", len(nodes), err)
	}
	return nodes, nil
}

// summary judges the final placement on the trace's nodes, which have no
// zones, and samples the pace at which pods were bound from the first offer.
func (r *replay) summary(nodes []*v1.Node, firstPod time.Time) measure.Summary {
	sum := measure.Summary{Zones: map[string]string{}, From: firstPod}
	for _, n := range nodes {
		sum.Zones[n.Name] = ""
		sum.Nodes = append(sum.Nodes, quality.Node{Name: n.Name, Allocatable: n.Status.Allocatable})
	}
	return sum
}

func (r *replay) progress(force bool) {
	if r.opts.Progress == nil || (!force && time.Since(r.lastProgress) < time.Second) {
		return
	}
	r.lastProgress = time.Now()
	_, bound, unsched := r.tracker.Progress()
	r.opts.Progress("offer", r.offered, bound, unsched)
}
