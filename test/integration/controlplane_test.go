package integration

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/controlplane"
)

func TestControlPlane(t *testing.T) {
	ctx := context.Background()
	cp, err := controlplane.Start(ctx, controlplane.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()

	// The admin kubeconfig file works on its own, as kubectl would use it.
	fromFile, err := clientcmd.BuildConfigFromFlags("", cp.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	admin := kubernetes.NewForConfigOrDie(fromFile)

	// A node is created without the not-ready taint.
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	got, err := admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Taints) != 0 {
		t.Errorf("new node has taints %v, want none", got.Spec.Taints)
	}

	// A pod is admitted without a service account controller.
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "pause"}}},
	}
	if _, err := admin.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a pod: %v", err)
	}

	// RBAC is enforced, with the bootstrap roles in place.
	if _, err := admin.RbacV1().ClusterRoles().Get(ctx, "system:kube-scheduler", metav1.GetOptions{}); err != nil {
		t.Errorf("bootstrap role system:kube-scheduler: %v", err)
	}
	data, err := cp.Kubeconfig("nobody")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	nobody := kubernetes.NewForConfigOrDie(cfg)
	if _, err := nobody.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing nodes as an unprivileged user: got %v, want forbidden", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "nobody-views"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:kube-scheduler"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "nobody"}},
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The authorizer learns of new bindings through its informers: wait.
	err = poll(ctx, func(ctx context.Context) (bool, error) {
		_, err := nobody.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Errorf("listing nodes once bound to system:kube-scheduler: still forbidden: %v", err)
	}

	// kubectl, as a user would run it, works with the kubeconfig file.
	out, err := exec.Command(kubectl(t), "--kubeconfig", cp.KubeconfigPath, "get", "nodes", "-o", "name").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "node/n1" {
		t.Errorf("kubectl get nodes: %v\n%s", err, out)
	}

	if err := cp.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(cp.Dir); !os.IsNotExist(err) {
		t.Errorf("control plane directory %s still there after Stop (stat: %v)", cp.Dir, err)
	}
	if err := cp.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestTwoControlPlanesInOneProcess(t *testing.T) {
	a := controlplane.StartForTest(t, controlplane.Options{})
	b := controlplane.StartForTest(t, controlplane.Options{})
	if a.URL == b.URL || a.Dir == b.Dir {
		t.Fatalf("two control planes share an address or directory: %s %s", a.URL, b.URL)
	}
	for _, cp := range []*controlplane.ControlPlane{a, b} {
		c := kubernetes.NewForConfigOrDie(cp.Config)
		if _, err := c.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
			t.Errorf("%s: %v", cp.URL, err)
		}
	}
}

// kubectl returns the kubectl built from the pinned k8s.io/kubernetes module
// (make test builds bin/kubectl); a test process without it builds its own.
func kubectl(t *testing.T) string {
	t.Helper()
	return schedproc.Tool(t, "PLACER_KUBECTL_BIN", "kubectl", "k8s.io/kubernetes/cmd/kubectl")
}
