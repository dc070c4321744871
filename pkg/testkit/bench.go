package testkit

import (
	"fmt"
	"testing"

	configv1 "k8s.io/kube-scheduler/config/v1"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/session"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// BenchOptions configure Bench. The zero value runs upstream's default
// configuration on the Memory backend.
type BenchOptions struct {
	// Backend is Memory (the default: measures the scheduler, not an API
	// server) or Embedded.
	Backend Backend
	// Registry holds the out-of-tree plugins, as Options.Registry; nil
	// means Placer's.
	Registry frameworkruntime.Registry
	// ConfigFile, ConfigYAML and Config give the scheduler configuration, at
	// most one way, as in Options; none: upstream's default.
	ConfigFile string
	// ConfigYAML is a KubeSchedulerConfiguration's YAML.
	ConfigYAML []byte
	// Config is the versioned struct.
	Config *configv1.KubeSchedulerConfiguration
	// SchedulerName picks the profile to run when the configuration has
	// several; the workload's pods ask for it.
	SchedulerName string
	// Params override the workload file's params, as placer-bench's --set.
	Params map[string]int
}

// Bench runs a harness workload file (docs/workloads.md) b.N times, each on
// a fresh backend with a scheduler built from opts, through placer-bench
// run's own loop (pkg/bench/session) with its runs in this process, and
// reports per run, for benchstat to compare between commits:
// pods/s (scheduling throughput, sampled each second as scheduler_perf
// does), p50-latency-s and p99-latency-s (pod creation to bind), scheduled
// and unschedulable (pods), and peak-heap-B. pods/s is left out when a run
// is too short to sample (under about two seconds of scheduling). ns/op is one run's wall time,
// without starting and stopping the backend. An error, or a barrier that
// timed out, fails the benchmark. It returns the last run's result, for
// further checks (Result.Placements).
//
// Run it with -benchtime=1x (or Nx) and -count for benchstat: one run of the
// workload is one iteration, and with the default -benchtime=1s Go would
// repeat a short workload with ever larger b.N until a second had passed.
func Bench(b *testing.B, workloadFile string, opts BenchOptions) *result.Result {
	b.Helper()
	f, err := workload.Load(workloadFile, opts.Params)
	if err != nil {
		b.Fatalf("testkit.Bench: %v", err)
	}
	backend := opts.Backend
	switch backend {
	case "":
		backend = Memory
	case Memory, Embedded:
	default:
		b.Fatalf("testkit.Bench: BenchOptions.Backend %q: want %q or %q", backend, Memory, Embedded)
	}
	cfg, err := schedulerConfig("BenchOptions", opts.ConfigFile, opts.ConfigYAML, opts.Config)
	if err != nil {
		b.Fatalf("testkit.Bench: %v", err)
	}
	name, err := pickProfile("BenchOptions", cfg, opts.SchedulerName)
	if err != nil {
		b.Fatalf("testkit.Bench: %v", err)
	}
	// The runner runs one profile at a time: keep the chosen one.
	for _, p := range cfg.Profiles {
		if p.SchedulerName == name {
			cfg.Profiles = []schedconfig.KubeSchedulerProfile{p}
			break
		}
	}
	profile := &runner.Profile{Name: name, Config: cfg, SchedulerName: name, Registry: opts.Registry}

	// The session's loop with one profile, b.N rounds, each run in this
	// process on a backend of its own; the timer runs during the runs only.
	s := session.New(session.WorkloadJob(f, []*runner.Profile{profile}), session.Options{Backend: string(backend), Count: b.N},
		&session.InProcess{Dir: b.TempDir, Timer: b})
	s.RunID = RunID
	b.ResetTimer()
	if err := s.Rounds(b.Context()); err != nil {
		b.Fatalf("testkit.Bench: %s: %v", workloadFile, err)
	}
	var throughput, p50, p99, scheduled, unschedulable, heap float64
	sampled := true
	var last *result.Result
	for _, res := range s.Report.Runs[0] {
		for _, ph := range res.Phases {
			if ph.TimedOut {
				b.Errorf("testkit.Bench: %s: ops[%d] (%s) timed out after %v with pods left unscheduled: the figures are not comparable",
					workloadFile, ph.Index, ph.Op, ph.Duration)
			}
		}
		throughput += res.Throughput.Average
		sampled = sampled && res.Throughput.Count > 0
		p50 += res.Latency.Perc50
		p99 += res.Latency.Perc99
		scheduled += float64(res.Scheduled)
		unschedulable += float64(res.Unschedulable)
		heap += float64(res.PeakHeap)
		last = res
	}
	n := float64(b.N)
	// The units are those of placer-bench's bench.txt, so that benchstat
	// can put the two side by side.
	if sampled {
		b.ReportMetric(throughput/n, "pods/s")
	} else {
		// A zero would read as a collapse in benchstat; leave it out.
		b.Logf("%s: no throughput sample in some run: throughput is sampled once a second, from the second "+
			"second on, as scheduler_perf does; make the workload larger so that scheduling lasts a few seconds", workloadFile)
	}
	b.ReportMetric(p50/n, "p50-latency-s")
	b.ReportMetric(p99/n, "p99-latency-s")
	b.ReportMetric(scheduled/n, "scheduled")
	b.ReportMetric(unschedulable/n, "unschedulable")
	b.ReportMetric(heap/n, "peak-heap-B")
	if last != nil {
		b.Logf("%s, profile %s on %s: %s", workloadFile, name, backend, summary(last))
	}
	return last
}

func summary(r *result.Result) string {
	return fmt.Sprintf("%d pods, %d scheduled, %d unschedulable, %.1f pods/s, latency p50 %.3fs p99 %.3fs",
		r.Pods, r.Scheduled, r.Unschedulable, r.Throughput.Average, r.Latency.Perc50, r.Latency.Perc99)
}
