package snapshot

import (
	"bytes"
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/placer-dev/placer/internal/testfile"
)

func cluster() *fake.Clientset {
	secretEnv := []v1.EnvVar{{Name: "PASSWORD", Value: "hunter2"}}
	container := v1.Container{Name: "c", Env: secretEnv,
		EnvFrom:   []v1.EnvFromSource{{SecretRef: &v1.SecretEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "s"}}}},
		Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1")}}}
	return fake.NewClientset(
		&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{v1.LabelTopologyZone: "a"}},
			Status: v1.NodeStatus{Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse("8")}}},
		&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bound", Namespace: "app",
			Annotations: map[string]string{lastApplied: `{"env":"hunter2"}`, "keep": "me"}},
			Spec: v1.PodSpec{NodeName: "n1", Containers: []v1.Container{container}}},
		&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: "app"}, Spec: v1.PodSpec{Containers: []v1.Container{container}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "app"},
			Spec: appsv1.DeploymentSpec{Template: v1.PodTemplateSpec{Spec: v1.PodSpec{Containers: []v1.Container{container}}}}},
		&v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "app"}, StringData: map[string]string{"PASSWORD": "hunter2"}},
		&v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "app"}, Data: map[string]string{"k": "hunter2"}},
	)
}

// Read only lists, never reads Secrets or ConfigMaps, and keeps no
// environment values; what it writes reads back the same.
func TestReadWriteLoad(t *testing.T) {
	c := cluster()
	s, err := Read(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Actions() {
		if a.GetVerb() != "list" {
			t.Errorf("Read did %s %s: a snapshot only lists", a.GetVerb(), a.GetResource().Resource)
		}
		if r := a.GetResource().Resource; r == "secrets" || r == "configmaps" {
			t.Errorf("Read listed %s", r)
		}
	}
	if len(s.Nodes) != 1 || len(s.Pods) != 2 || len(s.Deployments) != 1 || s.Objects() != 4 {
		t.Fatalf("read %d nodes, %d pods, %d deployments, %d objects", len(s.Nodes), len(s.Pods), len(s.Deployments), s.Objects())
	}
	var out bytes.Buffer
	if err := Write(&out, s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hunter2") || strings.Contains(out.String(), "PASSWORD") {
		t.Errorf("the snapshot file holds an environment value:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "keep: me") {
		t.Errorf("other annotations are lost:\n%s", out.String())
	}
	path := testfile.Write(t, t.TempDir(), "snap.yaml", out.String())
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Objects() != s.Objects() || back.Pods[0].Spec.NodeName != "n1" || back.Nodes[0].Labels[v1.LabelTopologyZone] != "a" {
		t.Errorf("read back %+v", back)
	}
	if q := back.Pods[0].Spec.Containers[0].Resources.Requests[v1.ResourceCPU]; q.String() != "1" {
		t.Errorf("requests read back as %v", back.Pods[0].Spec.Containers[0].Resources.Requests)
	}
}

// A kubectl dump is read as a snapshot, environment values dropped; kinds
// a snapshot does not hold are refused with their place in the file.
func TestLoadKubectlDump(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return testfile.Write(t, dir, name, content) }
	dump := write("dump.yaml", `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: default}
  spec:
    containers: [{name: c, image: x, env: [{name: TOKEN, value: hunter2}]}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
`)
	s, err := Load(dump)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Nodes) != 1 || len(s.Pods) != 1 || len(s.PriorityClasses) != 1 || s.Pods[0].Spec.Containers[0].Env != nil {
		t.Errorf("loaded %+v", s)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"secret.yaml", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Node, metadata: {name: n9}}\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n",
			"document 1: items[1]: kind Secret: a snapshot never holds Secrets or ConfigMaps"},
		{"service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
			"document 1: kind Service (v1): not a kind a snapshot holds; want one of Namespace, PriorityClass"},
		{"garbage.yaml", "apiVersion: v1\nkind: Node\n---\nnot: [yaml\n", "document 2:"},
	} {
		_, err := Load(write(tc.name, tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, err, tc.want)
		}
	}
}
