// Package live serves a harness run's figures while it runs, on a
// Prometheus /metrics endpoint (placer-bench --metrics-addr), so that a long
// run against a real cluster can be watched from Prometheus and Grafana.
package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the live figures of a run. Its own registry keeps them apart
// from the in-process scheduler's, which the harness resets per profile.
type Metrics struct {
	reg           *prometheus.Registry
	created       *prometheus.CounterVec
	bound         *prometheus.CounterVec
	unschedulable *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	throughput    *prometheus.GaugeVec
	phase         *prometheus.GaugeVec

	mu      sync.Mutex
	profile string
	op      prometheus.Labels // the phase now on, set to 1
	bounds  atomic.Int64      // pods bound in the current profile, for throughput
}

// New makes the metrics; nothing is served until Serve.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	profile := []string{"profile"}
	m.created = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "placer_bench", Name: "pods_created_total",
		Help: "Pods the harness created, by scheduler profile."}, profile)
	m.bound = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "placer_bench", Name: "pods_scheduled_total",
		Help: "Pods the harness saw bound to a node, by scheduler profile."}, profile)
	m.unschedulable = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "placer_bench", Name: "pods_unschedulable_total",
		Help: "Pods the scheduler found unschedulable (counted once per pod), by scheduler profile."}, profile)
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "placer_bench", Name: "pod_scheduling_latency_seconds",
		Help:    "Creation to bound, per pod, by scheduler profile.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 22)}, profile) // 1 ms to about 35 min
	m.throughput = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "placer_bench", Name: "throughput_pods_per_second",
		Help: "Pods bound in the last second, by scheduler profile."}, profile)
	m.phase = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "placer_bench", Name: "phase",
		Help: "1 for the op now running (profile, index in ops, op), 0 for those done."}, []string{"profile", "index", "op"})
	m.reg.MustRegister(m.created, m.bound, m.unschedulable, m.latency, m.throughput, m.phase,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live (for tests and embedding).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Serve serves /metrics on addr (host:port; port 0 picks one) until ctx
// ends, sampling throughput every second. It returns the address bound.
func (m *Metrics) Serve(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("placer-bench: metrics server: %v\n", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	go m.sampleThroughput(ctx)
	return ln.Addr().String(), nil
}

func (m *Metrics) sampleThroughput(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := m.bounds.Load()
		m.mu.Lock()
		if m.profile != "" {
			m.throughput.WithLabelValues(m.profile).Set(float64(now - last))
		}
		m.mu.Unlock()
		last = now
	}
}

// StartProfile begins a profile's run.
func (m *Metrics) StartProfile(profile string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.profile = profile
	m.bounds.Store(0)
}

// The runner calls these as the run goes.

// OpStarted marks ops[index] running and the op before it done.
func (m *Metrics) OpStarted(index int, op string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.op != nil {
		m.phase.With(m.op).Set(0)
	}
	m.op = prometheus.Labels{"profile": m.profile, "index": strconv.Itoa(index), "op": op}
	m.phase.With(m.op).Set(1)
}

// Finished marks the last op done.
func (m *Metrics) Finished() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.op != nil {
		m.phase.With(m.op).Set(0)
		m.op = nil
	}
}

// PodCreated counts a pod created.
func (m *Metrics) PodCreated() { m.created.WithLabelValues(m.current()).Inc() }

// PodBound counts a pod bound after latency.
func (m *Metrics) PodBound(latency time.Duration) {
	p := m.current()
	m.bound.WithLabelValues(p).Inc()
	m.latency.WithLabelValues(p).Observe(latency.Seconds())
	m.bounds.Add(1)
}

// PodUnschedulable counts a pod found unschedulable for the first time.
func (m *Metrics) PodUnschedulable() { m.unschedulable.WithLabelValues(m.current()).Inc() }

func (m *Metrics) current() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.profile
}
