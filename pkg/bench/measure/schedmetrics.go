package measure

import (
	"maps"
	"slices"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/result"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
)

// schedulerHistograms lists the histograms the harness reports and the
// labels each is broken down by.
var schedulerHistograms = []struct {
	name   string
	labels []string
}{
	{"scheduler_scheduling_attempt_duration_seconds", []string{"result"}},
	{"scheduler_framework_extension_point_duration_seconds", []string{"extension_point"}},
	// Upstream samples plugin execution in 10% of cycles.
	{"scheduler_plugin_execution_duration_seconds", []string{"plugin", "extension_point"}},
	{"scheduler_pod_scheduling_sli_duration_seconds", nil},
}

// collectSchedulerHistograms reads the in-process scheduler's histograms from
// the component-base registry (reset when each run's session starts) for
// the profile whose pods ask for schedulerName, grouped by each
// histogram's labels.
func collectSchedulerHistograms(schedulerName string) ([]result.HistogramSummary, error) {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		return nil, err
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	var out []result.HistogramSummary
	for _, h := range schedulerHistograms {
		f, ok := byName[h.name]
		if !ok {
			continue
		}
		groups := map[string]testutil.HistogramVec{}
		labelsOf := map[string]map[string]string{}
		for _, m := range f.GetMetric() {
			lv := map[string]string{}
			for _, l := range m.GetLabel() {
				lv[l.GetName()] = l.GetValue()
			}
			if p, ok := lv["profile"]; ok && p != schedulerName {
				continue
			}
			keep := map[string]string{}
			var key []string
			for _, l := range h.labels {
				keep[l] = lv[l]
				key = append(key, l+"="+lv[l])
			}
			k := strings.Join(key, ",")
			groups[k] = append(groups[k], &testutil.Histogram{Histogram: m.GetHistogram()})
			labelsOf[k] = keep
		}
		for _, k := range slices.Sorted(maps.Keys(groups)) {
			vec := groups[k]
			if vec.GetAggregatedSampleCount() == 0 {
				continue
			}
			const ms = 1000
			s := result.HistogramSummary{Metric: h.name, Count: vec.GetAggregatedSampleCount(), AvgMs: vec.Average() * ms,
				P50Ms: vec.Quantile(0.5) * ms, P90Ms: vec.Quantile(0.9) * ms, P99Ms: vec.Quantile(0.99) * ms}
			if len(labelsOf[k]) > 0 {
				s.Labels = labelsOf[k]
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// preemptionAttempts reads how often the scheduler tried to preempt. The
// metric has no profile label: the registry is reset for each profile's
// run, so it covers that run alone.
func preemptionAttempts() int {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		return 0
	}
	n := 0
	for _, f := range families {
		if f.GetName() == "scheduler_preemption_attempts_total" {
			for _, m := range f.GetMetric() {
				n += int(m.GetCounter().GetValue())
			}
		}
	}
	return n
}

// SchedulerQueuesEmpty reports whether the in-process scheduler has no pod
// waiting in its active or backoff queue (pods it gave up on wait in the
// unschedulable one).
func SchedulerQueuesEmpty() bool {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		return false
	}
	for _, f := range families {
		if f.GetName() != "scheduler_pending_pods" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "queue" && (l.GetValue() == "active" || l.GetValue() == "backoff") && m.GetGauge().GetValue() > 0 {
					return false
				}
			}
		}
	}
	return true
}
