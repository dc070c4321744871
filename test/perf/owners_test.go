package perf

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/kubernetes/test/utils/ktesting"
	"k8s.io/utils/ptr"
)

// ownerLabel on a pod asks for its owner references' UIDs to be filled in.
const ownerLabel = "perf.placer.dev/owner-uid"

// fillOwnerUIDs lets Placer's test cases make pods that belong to a
// ReplicaSet or StatefulSet under scheduler_perf, which runs no workload
// controllers. A pod template can name its owner but not the UID the API
// server gives it, and the garbage collector scheduler_perf runs deletes
// pods whose owner reference does not match a live object. So each
// workload's API server gets a mutating admission webhook, served here,
// that sets the UID of each owner reference of a labelled pod from the
// owner found by name: what the controller would have written. Pods without
// the label (every upstream case's) never reach it.
func fillOwnerUIDs(tCtx ktesting.TContext) error {
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("127.0.0.1", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		return fmt.Errorf("webhook certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	h := &ownerWebhook{client: tCtx.Client(), uids: map[string]types.UID{}}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeTLS(ln, "", "")
	}()
	// scheduler_perf checks for leaked goroutines after each workload.
	tCtx.Cleanup(func() {
		_ = srv.Close()
		<-served
	})

	hook := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "owner-uids.perf.placer.dev"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "owner-uids.perf.placer.dev",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To("https://" + ln.Addr().String() + "/"),
				CABundle: certPEM,
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			ObjectSelector:          &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: ownerLabel, Operator: metav1.LabelSelectorOpExists}}},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			TimeoutSeconds:          ptr.To[int32](10),
		}},
	}
	if _, err := tCtx.Client().AdmissionregistrationV1().MutatingWebhookConfigurations().Create(tCtx, hook, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("registering the owner UID webhook: %w", err)
	}
	// The API server picks the configuration up asynchronously: probe with
	// dry-run creates until the webhook is called.
	probe := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "owner-uid-probe", Namespace: metav1.NamespaceDefault, Labels: map[string]string{ownerLabel: "probe"}},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "probe", Image: "registry.k8s.io/pause:3.10.1"}}},
	}
	err = wait.PollUntilContextTimeout(tCtx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, _ = tCtx.Client().CoreV1().Pods(probe.Namespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return h.calls.Load() > 0, nil
	})
	if err != nil {
		return fmt.Errorf("the owner UID webhook was never called: %w", err)
	}
	return nil
}

type ownerWebhook struct {
	client kubernetes.Interface
	calls  atomic.Int64
	mu     sync.Mutex
	uids   map[string]types.UID // "<kind>/<namespace>/<name>"
}

func (h *ownerWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	var review admissionv1.AdmissionReview
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &review)
	}
	if err != nil || review.Request == nil {
		http.Error(w, fmt.Sprintf("want an AdmissionReview: %v", err), http.StatusBadRequest)
		return
	}
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	var pod v1.Pod
	if err := json.Unmarshal(review.Request.Object.Raw, &pod); err != nil {
		resp.Allowed, resp.Result = false, &metav1.Status{Message: "decoding the pod: " + err.Error()}
	} else if patch, err := h.patch(r.Context(), review.Request.Namespace, &pod); err != nil {
		resp.Allowed, resp.Result = false, &metav1.Status{Message: err.Error()}
	} else if patch != nil {
		resp.Patch, resp.PatchType = patch, ptr.To(admissionv1.PatchTypeJSONPatch)
	}
	review.Response, review.Request = resp, nil
	out, err := json.Marshal(review)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// patch returns the JSON patch that sets each owner reference's UID, nil
// when there is nothing to set. An owner that does not exist is an error:
// the pod would be garbage-collected.
func (h *ownerWebhook) patch(ctx context.Context, ns string, pod *v1.Pod) ([]byte, error) {
	type op struct {
		Op    string    `json:"op"`
		Path  string    `json:"path"`
		Value types.UID `json:"value"`
	}
	var ops []op
	for i, ref := range pod.OwnerReferences {
		uid, err := h.uid(ctx, ref.Kind, ns, ref.Name)
		if err != nil {
			return nil, fmt.Errorf("owner %d of pod %s/%s%s: %w", i, ns, pod.Name, pod.GenerateName, err)
		}
		if uid != ref.UID {
			ops = append(ops, op{Op: "replace", Path: fmt.Sprintf("/metadata/ownerReferences/%d/uid", i), Value: uid})
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return json.Marshal(ops)
}

func (h *ownerWebhook) uid(ctx context.Context, kind, ns, name string) (types.UID, error) {
	key := kind + "/" + ns + "/" + name
	h.mu.Lock()
	uid, ok := h.uids[key]
	h.mu.Unlock()
	if ok {
		return uid, nil
	}
	var m metav1.Object
	var err error
	switch kind {
	case "ReplicaSet":
		m, err = h.client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
	case "StatefulSet":
		m, err = h.client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	case "Deployment":
		m, err = h.client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	case "Job":
		m, err = h.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	default:
		return "", errors.New("kind " + kind + " is not one the webhook looks up (ReplicaSet, StatefulSet, Deployment, Job)")
	}
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.uids[key] = m.GetUID()
	h.mu.Unlock()
	return m.GetUID(), nil
}
