package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/gpushare"
)

// sharePod asks placer for milli thousandths of one GPU, with no
// nvidia.com/gpu request.
func sharePod(name string, milli int) *v1.Pod {
	p := pod(name, "placer", "100m", 0)
	p.Annotations = map[string]string{gpushare.ShareAnnotation: fmt.Sprint(milli)}
	return p
}

// deviceOf waits for the named pod to be bound and returns the devices
// the scheduler wrote before binding it.
func deviceOf(t *testing.T, c kubernetes.Interface, name string) string {
	t.Helper()
	waitBound(t, c, name)
	p, err := c.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := p.Annotations[gpushare.DeviceAnnotation]
	if !ok {
		t.Fatalf("%s bound to %s without annotation %s", name, p.Spec.NodeName, gpushare.DeviceAnnotation)
	}
	return d
}

// TestSchedulerSharesGPUsByDevice runs the binary with the shipped
// configuration (device accounting and fragmentation on by default) on one
// node with two GPUs: shares are bound with the device they hold, whole
// GPUs need entirely free devices, and a restarted scheduler rebuilds
// what each device holds from the bound pods' annotations.
func TestSchedulerSharesGPUsByDevice(t *testing.T) {
	n := node("gpu-1", "32", "128Gi", 2)
	n.Labels[gpushare.ModelLabel] = "Tesla-T4"
	cp, proc, c := startPlacer(t, n)

	// Four shares of 250, one at a time. Each leaves every device usable by
	// the shares seen (multiples of 250), so fragmentation is alike on both
	// devices and best fit decides: all four on one device, which they fill,
	// keeping the other entirely free. (Three shares of 300 would not: the
	// third beside two others would leave a sliver of 100 no share of 300
	// can use, so it goes to the other device.)
	var devices []string
	for i := range 4 {
		name := fmt.Sprintf("share-%d", i)
		createPods(t, c, sharePod(name, 250))
		devices = append(devices, deviceOf(t, c, name))
	}
	for _, d := range devices {
		if d != devices[0] {
			t.Fatalf("four shares of 250 on two GPUs went to devices %v, want all on one", devices)
		}
	}
	full := devices[0]
	room := map[string]string{"0": "1", "1": "0"}[full]

	// Two whole GPUs: NodeResourcesFit counts both free (shares request no
	// nvidia.com/gpu), but a device holding a share is not entirely free.
	createPods(t, c, pod("whole-2", "placer", "100m", 2))
	const wantReason = "fewer than 2 GPU devices entirely free"
	if msg := waitUnschedulable(t, c, "whole-2"); !strings.Contains(msg, wantReason) {
		t.Errorf("whole-2 unschedulable for %q, want a reason with %q", msg, wantReason)
	}

	// A share of 200 still fits, on the device with room.
	createPods(t, c, sharePod("share-4", 200))
	if got := deviceOf(t, c, "share-4"); got != room {
		t.Errorf("share of 200 went to device %s, want %s: device %s is full", got, room, full)
	}

	// Restart, as a crash would: the new process learns what each device
	// holds only from the bound pods' annotations. (It takes the lease
	// once the killed process's expires.)
	proc.Kill()
	proc = schedproc.Start(t, schedproc.ConfigWithKubeconfig(t, shippedConfig(), cp.KubeconfigPath, t.TempDir()), cp.KubeconfigPath)
	proc.WaitHealthy(t, hangGuard)

	// One device is full and the other holds 200 (800 free): a share of 500
	// fits only on the second. A scheduler that lost the ledger would see
	// both devices entirely free and take device 0 (best fit, first of
	// equals) — the full one, when the shares went to device 0.
	createPods(t, c, sharePod("after-restart", 500))
	if got := deviceOf(t, c, "after-restart"); got != room {
		t.Errorf("share of 500 after the restart went to device %s, want %s, the only one with 500 free", got, room)
	}
	p, err := c.CoreV1().Pods("default").Get(context.Background(), "whole-2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" {
		t.Errorf("whole-2 bound to %s after the restart, with no device entirely free", p.Spec.NodeName)
	}
}
