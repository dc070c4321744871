package upstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	corev1defaults "k8s.io/kubernetes/pkg/apis/core/v1"
)

// Namespaces and pods: createNamespaces, createPods with its volumes and
// steady state.

// ensureNamespace creates a namespace the run has not made yet, as
// scheduler_perf's createNamespaceIfNotPresent does.
func (e *executor) ensureNamespace(ctx context.Context, ns string) error {
	if _, ok := e.pending[ns]; ok {
		return nil
	}
	if err := e.createNamespace(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	e.pending[ns] = 0
	return nil
}

func (e *executor) createNamespace(ctx context.Context, ns *v1.Namespace) error {
	e.label(ns)
	if e.memory {
		corev1defaults.SetObjectDefaults_Namespace(ns)
	}
	_, err := e.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns.Name, err)
	}
	e.backend.UsedNamespace(ns.Name, err == nil)
	return nil
}

func (e *executor) createNamespaces(ctx context.Context, s *Step) error {
	for i := range s.Count {
		ns := &v1.Namespace{}
		if s.NamespaceTemplate != nil {
			if err := s.NamespaceTemplate.decodeInto(i, s.Count, ns); err != nil {
				return err
			}
		}
		ns.Name = fmt.Sprintf("%s-%d", s.CreateNamespaces.Prefix, i)
		if err := e.createNamespace(ctx, ns); err != nil {
			return err
		}
		if _, ok := e.pending[ns.Name]; !ok {
			e.pending[ns.Name] = 0
		}
	}
	return nil
}

func (e *executor) createPods(ctx context.Context, s *Step) error {
	o := s.CreatePods
	if err := e.ensureNamespace(ctx, s.Namespace); err != nil {
		return err
	}
	if o.CollectMetrics {
		if err := e.startWindow([]string{s.Namespace}, labels.Everything()); err != nil {
			return err
		}
	}
	switch {
	case o.SteadyState:
		if err := e.steadyState(ctx, s); err != nil {
			return err
		}
	default:
		if _, err := e.createPodBatch(ctx, s, 0); err != nil {
			return err
		}
		if o.SkipWaitToCompletion {
			e.pending[s.Namespace] += s.Count
			break
		}
		if err := e.waitPods(ctx, OpCreatePods, s.Namespace, labels.Everything(), s.Count, false); err != nil {
			return err
		}
	}
	if o.CollectMetrics {
		return e.stopWindow()
	}
	return nil
}

// createPodBatch creates the step's Count pods (with their volumes and
// claims when the op has templates for them) on podWorkers workers, and
// returns their UIDs. batch numbers the claims and volumes of a steady
// state's successive batches apart.
func (e *executor) createPodBatch(ctx context.Context, s *Step, batch int) ([]types.UID, error) {
	uids := make([]types.UID, s.Count)
	var mu sync.Mutex
	var firstErr error
	workqueue.ParallelizeUntil(ctx, min(podWorkers, max(s.Count, 1)), s.Count, func(i int) {
		uid, err := e.createPod(ctx, s, i, batch)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		uids[i] = uid
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return uids, ctx.Err()
}

func (e *executor) createPod(ctx context.Context, s *Step, i, batch int) (types.UID, error) {
	pod := defaultPod()
	if s.PodTemplate != nil {
		pod = &v1.Pod{}
		if err := s.PodTemplate.decodeInto(i, s.Count, pod); err != nil {
			return "", err
		}
	}
	pod.Namespace = s.Namespace
	if s.PVCTemplate != nil {
		claim, err := e.createVolume(ctx, s, i, batch)
		if err != nil {
			return "", err
		}
		pod.Spec.Volumes = []v1.Volume{{Name: "vol", VolumeSource: v1.VolumeSource{
			PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
	}
	e.preparePod(pod)
	uid, err := e.workloads.CreatePod(ctx, pod, nil, e.measured(pod))
	if err != nil {
		return "", fmt.Errorf("pod %d in %s: %w", i, pod.Namespace, err)
	}
	return uid, nil
}

// preparePod makes a pod the profile's: its scheduler name (whatever the
// template said, so that profiles compare on the same pods), the run label,
// owner references to createAny objects with the UIDs they got.
func (e *executor) preparePod(pod *v1.Pod) {
	pod.Spec.SchedulerName = e.profile.SchedulerName
	e.label(pod)
	for i, ref := range pod.OwnerReferences {
		if uid, ok := e.owners.Load(ref.Kind + "/" + pod.Namespace + "/" + ref.Name); ok {
			pod.OwnerReferences[i].UID = uid.(types.UID)
		}
	}
	if e.memory {
		corev1defaults.SetObjectDefaults_Pod(pod)
		pod.Spec.SchedulerName = e.profile.SchedulerName
	}
}

// createVolume creates claim pvc-<i> and volume <namespace>-vol-<i> bound to
// each other, as scheduler_perf's CreatePodWithPersistentVolume does.
func (e *executor) createVolume(ctx context.Context, s *Step, i, batch int) (string, error) {
	pvc, pv := &v1.PersistentVolumeClaim{}, &v1.PersistentVolume{}
	if err := s.PVCTemplate.decodeInto(i, s.Count, pvc); err != nil {
		return "", err
	}
	if err := s.PVTemplate.decodeInto(i, s.Count, pv); err != nil {
		return "", err
	}
	id := i + batch*s.Count
	pvc.Name, pvc.Namespace = fmt.Sprintf("pvc-%d", id), s.Namespace
	pv.Name = fmt.Sprintf("%s-vol-%d", s.Namespace, id)
	if src := pv.Spec.PersistentVolumeSource; src.CSI != nil {
		src.CSI.VolumeHandle = pv.Name
	} else if src.AWSElasticBlockStore != nil {
		src.AWSElasticBlockStore.VolumeID = pv.Name
	}
	pv.Spec.ClaimRef = &v1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: s.Namespace, Name: pvc.Name}
	pv.Status.Phase = v1.VolumeBound
	pvc.Spec.VolumeName = pv.Name
	pvc.Status.Phase = v1.ClaimBound
	e.label(pvc)
	e.label(pv)
	if e.memory {
		corev1defaults.SetObjectDefaults_PersistentVolumeClaim(pvc)
		corev1defaults.SetObjectDefaults_PersistentVolume(pv)
	}
	// An API server ignores status on create: it is set separately.
	claims := e.client.CoreV1().PersistentVolumeClaims(s.Namespace)
	created, err := claims.Create(ctx, pvc, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating claim %s/%s: %w", s.Namespace, pvc.Name, err)
	}
	created.Status = pvc.Status
	if _, err := claims.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("setting the status of claim %s/%s: %w", s.Namespace, pvc.Name, err)
	}
	createdPV, err := e.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating volume %s: %w", pv.Name, err)
	}
	createdPV.Status = pv.Status
	if _, err := e.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, createdPV, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("setting the status of volume %s: %w", pv.Name, err)
	}
	return pvc.Name, nil
}

// steadyState keeps Count pods in the namespace for the step's duration:
// once a batch is all scheduled it is deleted and the next created.
func (e *executor) steadyState(ctx context.Context, s *Step) error {
	deadline := time.Now().Add(s.Duration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for batch := 0; ; batch++ {
		uids, err := e.createPodBatch(ctx, s, batch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := e.waitUIDsBound(ctx, uids); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		pods, err := e.runPods(s.Namespace, labels.Everything())
		if err != nil {
			return err
		}
		e.deleteEach(ctx, pods, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		if ctx.Err() != nil {
			return nil
		}
	}
}
