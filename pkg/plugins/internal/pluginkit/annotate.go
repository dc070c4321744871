package pluginkit

import (
	"context"
	"encoding/json"
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Annotate sets one annotation on a pod with a merge patch of that key
// alone, so that nothing else on the pod is touched (the scheduler's role
// in manifests/rbac.yaml grants pods patch for it). A pod that already
// carries the value is left alone.
func Annotate(ctx context.Context, client kubernetes.Interface, pod *v1.Pod, key, value string) error {
	if v, ok := pod.Annotations[key]; ok && v == value {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if err != nil {
		return err
	}
	if _, err := client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("writing annotation %s on pod %s/%s: %w", key, pod.Namespace, pod.Name, err)
	}
	return nil
}
