package imagearchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/placer-dev/placer/pkg/imagearchive/imagetest"
)

// A program that answers --version as placer-scheduler does, small enough to
// cross-compile for every platform in a unit test (the real scheduler's
// linux/amd64 image is checked in test/integration).
const versionProgram = `package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Printf("placer-scheduler v9.9.9 %s/%s uid=%d\n", runtime.GOOS, runtime.GOARCH, os.Getuid())
		return
	}
	os.Exit(2)
}
`

// buildProgram compiles src for goos/arch into dir and returns the binary's path.
func buildProgram(t *testing.T, dir, src, goos, arch string, cgo bool) string {
	t.Helper()
	srcFile := filepath.Join(dir, fmt.Sprintf("main-%s-%t.go", arch, cgo))
	if err := os.WriteFile(srcFile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, goos+"_"+arch, "prog")
	cgoEnv := "CGO_ENABLED=0"
	if cgo {
		cgoEnv = "CGO_ENABLED=1"
		out += "-cgo"
	}
	cmd := exec.Command("go", "build", "-o", out, srcFile)
	cmd.Env = append(os.Environ(), cgoEnv, "GOOS="+goos, "GOARCH="+arch, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s/%s: %v\n%s", goos, arch, err, b)
	}
	return out
}

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testOptions(bins ...Binary) Options {
	return Options{Binaries: bins, Version: "v9.9.9", Revision: "0123abc", Source: "https://example.com/placer", Created: created}
}

// TestBuildMultiPlatform builds the image for linux/amd64 and linux/arm64,
// writes it as the command does, pushes the layout to a registry as crane
// push does, pulls each platform back as a node would, and checks what the
// image holds and that the host's platform runs.
func TestBuildMultiPlatform(t *testing.T) {
	dir := t.TempDir()
	var bins []Binary
	for _, arch := range []string{"amd64", "arm64"} {
		bins = append(bins, Binary{OS: "linux", Arch: arch, Path: buildProgram(t, dir, versionProgram, "linux", arch, false)})
	}
	idx, err := Build(testOptions(bins...))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Tag("registry.example.com/placer/placer-scheduler:v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	w, err := WriteAll(out, idx, ref, created)
	if err != nil {
		t.Fatal(err)
	}

	// What crane push DIR REF does: the layout's single entry, an index,
	// pushed as is.
	pushed, top, pulled := imagetest.Push(t, w.Layout, "placer/placer-scheduler:v9.9.9")
	if got := top.Manifests[0].Annotations[annotationImageName]; got != "registry.example.com/placer/placer-scheduler:v9.9.9" {
		t.Errorf("layout names the image %q", got)
	}
	built, _ := idx.Digest()
	got, _ := pulled.Digest()
	if got != built {
		t.Errorf("pulled index %s, built %s", got, built)
	}

	for _, b := range bins {
		plat := v1.Platform{OS: b.OS, Architecture: b.Arch}
		img := imagetest.Pull(t, pushed, b.OS, b.Arch)
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.OS != b.OS || cfg.Architecture != b.Arch {
			t.Errorf("%s: config says %s/%s", plat, cfg.OS, cfg.Architecture)
		}
		if cfg.Config.User != "65532:65532" || strings.Join(cfg.Config.Entrypoint, " ") != BinaryPath {
			t.Errorf("%s: user %q entrypoint %v", plat, cfg.Config.User, cfg.Config.Entrypoint)
		}
		for k, v := range map[string]string{LabelVersion: "v9.9.9", LabelRevision: "0123abc", LabelSource: "https://example.com/placer"} {
			if cfg.Config.Labels[k] != v {
				t.Errorf("%s: label %s = %q, want %q", plat, k, cfg.Config.Labels[k], v)
			}
		}
		files := imagetest.Files(t, img)
		want, _ := os.ReadFile(b.Path)
		if !bytes.Equal(files[BinaryPath].Data, want) || files[BinaryPath].Mode != 0o755 {
			t.Errorf("%s: %s is not the binary given, mode 0755", plat, BinaryPath)
		}
		for f := range files {
			if base := filepath.Base(f); base == "sh" || base == "bash" || base == "busybox" {
				t.Errorf("%s: the image has a shell, %s", plat, f)
			}
		}
		if !strings.Contains(string(files["/etc/passwd"].Data), "nonroot:x:65532:65532:") {
			t.Errorf("%s: /etc/passwd has no nonroot user:\n%s", plat, files["/etc/passwd"].Data)
		}

		// The single-platform archive holds the same image, as crane push
		// FILE and docker load's manifest.json read it.
		fromTar, err := tarball.ImageFromPath(w.Archives[b.OS+"/"+b.Arch], nil)
		if err != nil {
			t.Fatalf("%s archive: %v", plat, err)
		}
		if err := validate.Image(fromTar); err != nil {
			t.Fatalf("%s archive does not validate: %v", plat, err)
		}
		// That reader makes a Docker manifest of its own from manifest.json:
		// the config and layers are what must match.
		if c1, c2 := configName(t, img), configName(t, fromTar); c1 != c2 {
			t.Errorf("%s: archive's config %s, index's %s", plat, c2, c1)
		}
		// The archive's OCI side, as containerd and podman read it: the
		// very manifest the index points at, named for the tag.
		untarred := untar(t, w.Archives[b.OS+"/"+b.Arch], filepath.Join(dir, "untar-"+b.Arch))
		ap, err := layout.ImageIndexFromPath(untarred)
		if err != nil {
			t.Fatalf("%s archive as an OCI layout: %v", plat, err)
		}
		am, err := ap.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		d1, _ := img.Digest()
		if len(am.Manifests) != 1 || am.Manifests[0].Digest != d1 || am.Manifests[0].Annotations[annotationRefName] != "v9.9.9" {
			t.Errorf("%s archive's index.json %+v, want one entry %s tagged v9.9.9", plat, am.Manifests, d1)
		}
		if fromOCI, err := ap.Image(d1); err != nil {
			t.Errorf("%s archive's OCI image: %v", plat, err)
		} else if err := validate.Image(fromOCI); err != nil {
			t.Errorf("%s archive's OCI image does not validate: %v", plat, err)
		}

		if b.Arch == runtime.GOARCH && runtime.GOOS == "linux" {
			exe := filepath.Join(dir, "extracted-"+b.Arch)
			if err := os.WriteFile(exe, files[BinaryPath].Data, 0o755); err != nil {
				t.Fatal(err)
			}
			outB, err := exec.Command(exe, "--version").CombinedOutput()
			if err != nil || !strings.HasPrefix(string(outB), "placer-scheduler v9.9.9 linux/"+b.Arch) {
				t.Errorf("the image's binary --version: %v %q", err, outB)
			}
		}
	}

	// Same inputs, same bytes: a second build writes identical files.
	idx2, err := Build(testOptions(bins...))
	if err != nil {
		t.Fatal(err)
	}
	w2, err := WriteAll(filepath.Join(dir, "again"), idx2, ref, created)
	if err != nil {
		t.Fatal(err)
	}
	for plat, f := range w.Archives {
		if fileSum(t, f) != fileSum(t, w2.Archives[plat]) {
			t.Errorf("%s: two builds of the same binary differ", plat)
		}
	}
}

func configName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// untar unpacks the archive file into dir, as an OCI archive reader would.
func untar(t *testing.T, file, dir string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	imagetest.Walk(t, f, func(h *tar.Header, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	return dir
}

func fileSum(t *testing.T, f string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestBuildRefuses: binaries that could not run in the image stop the build
// with a message that says why.
func TestBuildRefuses(t *testing.T) {
	dir := t.TempDir()
	amd64 := buildProgram(t, dir, versionProgram, "linux", "amd64", false)
	dynamic := buildProgram(t, dir, "package main\n\n// #include <stdlib.h>\nimport \"C\"\n\nfunc main() { C.abort() }\n", "linux", runtime.GOARCH, true)
	for _, c := range []struct {
		name string
		bins []Binary
		want string
	}{
		{"wrong architecture", []Binary{{OS: "linux", Arch: "arm64", Path: amd64}}, "is built for EM_X86_64, not linux/arm64"},
		{"dynamic", []Binary{{OS: "linux", Arch: runtime.GOARCH, Path: dynamic}}, "dynamically linked"},
		{"not ELF", []Binary{{OS: "linux", Arch: "amd64", Path: filepath.Join(dir, "main-amd64-false.go")}}, "not an ELF executable"},
		{"twice", []Binary{{OS: "linux", Arch: "amd64", Path: amd64}, {OS: "linux", Arch: "amd64", Path: amd64}}, "two binaries for linux/amd64"},
		{"none", nil, "no binaries"},
	} {
		_, err := Build(testOptions(c.bins...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	if _, err := ParseBinary("linux/amd64"); err == nil {
		t.Error("ParseBinary accepted a binary with no path")
	}
}

// TestNames: the names the archives carry, for a short tag and a registry's.
func TestNames(t *testing.T) {
	for ref, want := range map[string][2]string{
		"placer-scheduler:dev":                                {"docker.io/library/placer-scheduler:dev", "dev"},
		"registry.example.com/placer/placer-scheduler:v0.1.0": {"registry.example.com/placer/placer-scheduler:v0.1.0", "v0.1.0"},
		"localhost:5000/placer-scheduler:v1":                  {"localhost:5000/placer-scheduler:v1", "v1"},
	} {
		tag, err := Tag(ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		a := refAnnotations(tag)
		if a[annotationImageName] != want[0] || a[annotationRefName] != want[1] {
			t.Errorf("%s: annotations %v, want %v", ref, a, want)
		}
	}
	if _, err := Tag("Not A Name"); err == nil {
		t.Error("Tag accepted an invalid reference")
	}
}
