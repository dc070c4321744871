package explain

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/placer-dev/placer/pkg/explanation"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
)

// publish writes an explanation to its pod: the annotation (a merge patch
// of that one key) and an Event. An explanation equal to the one the pod
// already carries is not written again: an unschedulable pod is explained
// at every attempt, and its verdicts rarely change.
func (pl *Explain) publish(ctx context.Context, pod *v1.Pod, exp *explanation.Explanation) {
	log := logger(ctx).WithValues("pod", klog.KObj(pod))
	data, err := exp.Encode()
	if err != nil {
		log.Error(err, "Encoding an explanation")
		explanations.WithLabelValues(outcomeFailed).Inc()
		return
	}
	if pod.Annotations[explanation.Annotation] == string(data) {
		return
	}
	eventType, outcome := v1.EventTypeNormal, outcomePlaced
	if exp.Node == "" {
		eventType, outcome = v1.EventTypeWarning, outcomeUnschedulable
	}
	if err := pluginkit.Annotate(ctx, pl.handle.ClientSet(), pod, explanation.Annotation, string(data)); err != nil {
		// A pod deleted meanwhile, or a scheduler without the right to
		// patch pods: the Event still says it.
		log.V(2).Info("Could not annotate the pod with its explanation", "err", err)
		outcome = outcomeFailed
	}
	explanations.WithLabelValues(outcome).Inc()
	pl.handle.EventRecorder().Eventf(pod, nil, eventType, explanation.EventReason, "Scheduling", "%s", exp.Note())
}

func logger(ctx context.Context) klog.Logger { return klog.FromContext(ctx).WithName(Name) }
