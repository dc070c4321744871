package session

import (
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/result"
)

// The notes after a replay's table say how GPU-sharing pods were offered,
// and in share mode, once per profile over its runs, how many it bound
// without a device and the first device annotation that named none.
func TestSharingNotes(t *testing.T) {
	run := func(profile string, sharing, without int, badDevice string) *result.Result {
		return &result.Result{Profile: profile, Trace: &result.TraceResult{SharingPods: sharing, SharedWithoutDevice: without, DeviceAnnotationError: badDevice}}
	}
	if notes := sharingNotes(result.GPUSharingWhole, []*result.Result{run("default", 0, 0, "")}); len(notes) != 0 {
		t.Errorf("notes %q for a replay without sharing pods", notes)
	}
	whole := sharingNotes(result.GPUSharingWhole, []*result.Result{run("default", 3, 0, "")})
	if len(whole) != 1 || !strings.Contains(whole[0], "offered as a whole nvidia.com/gpu each (--gpu-sharing whole)") {
		t.Errorf("whole: %q", whole)
	}
	share := sharingNotes(result.GPUSharingShare, []*result.Result{
		run("default", 3, 3, ""), run("default", 4, 2, ""),
		run("placer", 3, 0, ""), run("placer", 3, 1, `pod p: annotation placer.dev/gpu-device="0" on node cpu-0, which has no GPUs`),
	})
	want := []string{
		"offered as shares of one GPU (--gpu-sharing share",
		"profile default: 5 GPU-sharing pods in 2 run(s) bound without a device",
		"profile placer: 1 GPU-sharing pods in 2 run(s) bound without a device",
		`profile placer: pod p: annotation placer.dev/gpu-device="0" on node cpu-0, which has no GPUs; that pod counts as bound without a device`,
	}
	if len(share) != len(want) {
		t.Fatalf("share: %d notes, want %d:\n%s", len(share), len(want), strings.Join(share, "\n"))
	}
	for i := range want {
		if !strings.Contains(share[i], want[i]) {
			t.Errorf("note %d: %q, want it to contain %q", i, share[i], want[i])
		}
	}
}
