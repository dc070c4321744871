package integration

import (
	"archive/tar"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/imagearchive"
	"github.com/placer-dev/placer/pkg/imagearchive/imagetest"
)

// TestImageArchive builds the linux/amd64 image of the built placer-scheduler
// with hack/image-archive, as make image-archive runs it (make builds that
// binary static), then checks it as a registry and a node would: the layout
// pushed as crane push pushes it and pulled back, manifest and config valid,
// user not root, no shell, labels set, and the binary extracted from the
// pulled layer answering --version as the built one does. The arm64 build
// is covered by pkg/imagearchive's tests with a small program: building the
// scheduler for arm64 here would cost a second compilation of Kubernetes.
func TestImageArchive(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("this test runs the image's linux/amd64 binary: run it on linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	bin := schedproc.Binary(t)
	wantVersion, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	version := strings.TrimPrefix(strings.TrimSpace(string(wantVersion)), "placer-scheduler ")

	out := t.TempDir()
	cmd := exec.Command("go", "run", "./hack/image-archive",
		"--image", "placer-scheduler:dev", "--out", out,
		"--version", version, "--revision", "0123456789abcdef", "--source", "https://github.com/placer-dev/placer",
		"--created", "2026-01-02T03:04:05Z", "--binary", "linux/amd64="+bin)
	cmd.Dir = schedproc.RepoRoot()
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/image-archive: %v\n%s", err, msg)
	}
	t.Logf("hack/image-archive:\n%s", msg)

	// crane push DIR REF: the layout's one entry, the index, to a registry;
	// then as a node pulls it: the index, then the manifest for its platform.
	ref, _, _ := imagetest.Push(t, filepath.Join(out, "oci"), "placer/placer-scheduler:dev")
	img := imagetest.Pull(t, ref, "linux", "amd64")
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if uid, gid, _ := strings.Cut(c.User, ":"); uid == "" || uid == "0" || uid == "root" || gid == "0" {
		t.Errorf("the image runs as %q, want a non-root user and group", c.User)
	}
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (the Deployment's runAsUser and runAsGroup)", c.User)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != imagearchive.BinaryPath {
		t.Errorf("entrypoint %v, want [%s]", c.Entrypoint, imagearchive.BinaryPath)
	}
	for k, v := range map[string]string{
		imagearchive.LabelVersion: version, imagearchive.LabelRevision: "0123456789abcdef",
		imagearchive.LabelSource: "https://github.com/placer-dev/placer",
	} {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}

	// The file system: the binary, no shell or any other executable.
	files := imagetest.Files(t, img)
	for p, f := range files {
		if f.Type == tar.TypeReg && f.Mode&0o111 != 0 && p != imagearchive.BinaryPath {
			t.Errorf("the image holds another executable, %s", p)
		}
		if base := filepath.Base(p); base == "sh" || base == "bash" || base == "ash" || base == "busybox" {
			t.Errorf("the image holds a shell, %s", p)
		}
	}
	t.Logf("image files: %v", slices.Sorted(maps.Keys(files)))
	bf, ok := files[imagearchive.BinaryPath]
	if !ok {
		t.Fatalf("no %s in the image", imagearchive.BinaryPath)
	}
	binary := bf.Data
	exe := filepath.Join(t.TempDir(), "placer-scheduler")
	if err := os.WriteFile(exe, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(exe, "--version").Output()
	if err != nil || string(got) != string(wantVersion) {
		t.Errorf("the image's binary --version: %q %v, want %q", got, err, wantVersion)
	}

	// The archive for docker load, podman load, kind load image-archive and
	// crane push FILE holds the same config and layer.
	archive := filepath.Join(out, "placer-scheduler-linux-amd64.tar")
	fromTar, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatalf("the archive: %v", err)
	}
	if err := validate.Image(fromTar, validate.Fast); err != nil {
		t.Fatalf("the archive does not validate: %v", err)
	}
	want, _ := img.ConfigName()
	if got, _ := fromTar.ConfigName(); got != want {
		t.Errorf("the archive's config %s, the index's %s", got, want)
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1", len(layers), err)
	}
	compressed, _ := layers[0].Size()
	st, err := os.Stat(archive)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linux/amd64 image: binary %.1f MB, layer %.1f MB compressed, archive %.1f MB",
		float64(len(binary))/1e6, float64(compressed)/1e6, float64(st.Size())/1e6)
}
