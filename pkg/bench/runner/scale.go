package runner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// The harness plays both the controllers and the kubelets: it removes pods
// at once (grace period 0), as a kubelet confirming termination would.
var removeNow = metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}

// scale sets every instance of a workload to replicas: new pods are made as
// the controller would (a StatefulSet's next ordinals, with claims), and
// scale-down removes the newest pods (a StatefulSet's highest ordinals,
// keeping their claims, as the controller does).
func (r *run) scale(ctx context.Context, name string, replicas int) error {
	for _, inst := range r.created[name] {
		if err := r.setReplicas(ctx, inst, replicas); err != nil {
			return err
		}
		for len(inst.Pods) > replicas {
			last := inst.Pods[len(inst.Pods)-1]
			if err := r.client.CoreV1().Pods(last.Namespace).Delete(ctx, last.Name, removeNow); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("scaling %s down: %w", inst.Name, err)
			}
			inst.Pods = inst.Pods[:len(inst.Pods)-1]
		}
		for len(inst.Pods) < replicas {
			pod, claims := r.gen.ReplacementPod(inst, len(inst.Pods))
			if err := r.createPod(ctx, pod, claims, r.measureAll); err != nil {
				return fmt.Errorf("scaling %s up: %w", inst.Name, err)
			}
			inst.Pods = append(inst.Pods, pod)
		}
	}
	return nil
}

// setReplicas updates the controller object first, as kubectl scale does,
// so that plugins reading spec.replicas see the new size.
func (r *run) setReplicas(ctx context.Context, inst *generate.Instance, replicas int) error {
	n := ptr.To(int32(replicas))
	var err error
	switch o := inst.Owner.(type) {
	case *appsv1.Deployment:
		err = updateScale(ctx, func() error {
			d, err := r.client.AppsV1().Deployments(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Spec.Replicas = n
			_, err = r.client.AppsV1().Deployments(o.Namespace).Update(ctx, d, metav1.UpdateOptions{})
			return err
		})
	case *appsv1.StatefulSet:
		err = updateScale(ctx, func() error {
			s, err := r.client.AppsV1().StatefulSets(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Spec.Replicas = n
			_, err = r.client.AppsV1().StatefulSets(o.Namespace).Update(ctx, s, metav1.UpdateOptions{})
			return err
		})
	case *batchv1.Job:
		err = updateScale(ctx, func() error {
			j, err := r.client.BatchV1().Jobs(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			j.Spec.Parallelism = n
			_, err = r.client.BatchV1().Jobs(o.Namespace).Update(ctx, j, metav1.UpdateOptions{})
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("scaling %s: %w", inst.Name, err)
	}
	return nil
}

// updateScale retries an update that lost a race with another writer.
func updateScale(ctx context.Context, update func() error) error {
	for {
		err := update()
		if !apierrors.IsConflict(err) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// createPod creates a pod (and claims it needs that do not exist yet) and
// records it in the tracker.
func (r *run) createPod(ctx context.Context, pod *v1.Pod, claims []*v1.PersistentVolumeClaim, measured bool) error {
	_, err := r.createPodUID(ctx, pod, claims, measured)
	return err
}

// createPodUID is createPod returning the UID the backend gave the pod.
func (r *run) createPodUID(ctx context.Context, pod *v1.Pod, claims []*v1.PersistentVolumeClaim, measured bool) (types.UID, error) {
	for _, c := range claims {
		if _, err := r.client.CoreV1().PersistentVolumeClaims(c.Namespace).Create(ctx, c, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("creating claim %s/%s: %w", c.Namespace, c.Name, err)
		}
	}
	p := r.withOwnerUIDs(pod)
	at := time.Now()
	created, err := r.client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	r.tracker.Created(created.UID, at, measured)
	return created.UID, nil
}

// churn removes pods of a workload and recreates them, round after round:
// each round picks, with the file's seed, pods to lose; Deployments and Jobs
// get replacements under new names, StatefulSet replicas come back with the
// same identity and claims, bare pods under the same name.
func (r *run) churn(ctx context.Context, op workload.Op) error {
	rng := rand.New(rand.NewPCG(uint64(r.file.Seed), uint64(len(r.tracker.Records()))))
	for round := range op.Rounds.Value {
		if round > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(op.Interval.Duration):
			}
		}
		type slot struct {
			inst *generate.Instance
			i    int
		}
		var slots []slot
		for _, inst := range r.created[op.Workload] {
			for i := range inst.Pods {
				slots = append(slots, slot{inst, i})
			}
		}
		rng.Shuffle(len(slots), func(a, b int) { slots[a], slots[b] = slots[b], slots[a] })
		picked := slots[:min(op.Pods.Value, len(slots))]
		// Replace from the highest index down, so indexes stay valid.
		sort.Slice(picked, func(a, b int) bool { return picked[a].i > picked[b].i })
		for _, s := range picked {
			old := s.inst.Pods[s.i]
			if err := r.client.CoreV1().Pods(old.Namespace).Delete(ctx, old.Name, removeNow); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("churn: removing %s: %w", old.Name, err)
			}
			pod, claims := r.gen.ReplacementPod(s.inst, s.i)
			if err := r.createPod(ctx, pod, claims, r.measureAll); err != nil {
				return fmt.Errorf("churn: %w", err)
			}
			s.inst.Pods[s.i] = pod
		}
	}
	return nil
}
