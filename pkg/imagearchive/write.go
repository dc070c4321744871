package imagearchive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// The annotations docker save (25+) writes on an image in index.json:
	// containerd (ctr import, so kind load) and docker load name the image
	// from the first, podman and the OCI spec from the second (a tag).
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// Tag parses an image reference with a tag, e.g. placer-scheduler:dev.
func Tag(ref string) (name.Tag, error) {
	return name.NewTag(ref)
}

// fullName is ref as containerd spells it: docker.io/library/placer-scheduler:dev.
func fullName(ref name.Tag) string {
	reg := ref.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + ref.RepositoryStr() + ":" + ref.TagStr()
}

func refAnnotations(ref name.Tag) map[string]string {
	return map[string]string{annotationImageName: fullName(ref), annotationRefName: ref.TagStr()}
}

// WriteLayout writes idx, named ref, as an OCI image layout in dir (created;
// an existing dir is replaced). index.json holds one entry, the multi-platform
// index, which is what `crane push DIR REF` pushes.
func WriteLayout(dir string, idx v1.ImageIndex, ref name.Tag) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(refAnnotations(ref)))
}

// dockerManifest is one entry of the manifest.json docker save writes.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// WriteArchive writes img as a single-platform archive in the layout docker
// save (25+) writes: an OCI image layout (oci-layout, index.json, blobs/)
// that containerd, podman and docker read, plus the manifest.json of the
// older docker save format, pointing at the same blobs, which every docker
// load and go-containerregistry's tarball reader (crane push FILE) use.
func WriteArchive(file string, img v1.Image, ref name.Tag, mtime time.Time) (err error) {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(file)
		}
	}()
	tw := tar.NewWriter(f)
	mtime = mtime.UTC()
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: mtime}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: wrote %d bytes, expected %d", name, n, size)
		}
		return err
	}
	addBytes := func(name string, data []byte) error { return add(name, int64(len(data)), bytes.NewReader(data)) }
	blobName := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	// addRaw adds the blob raw returns (the config, the manifest) under the
	// digest digest returns, and returns both with the blob's size.
	addRaw := func(digest func() (v1.Hash, error), raw func() ([]byte, error)) (v1.Hash, int64, error) {
		h, err := digest()
		if err != nil {
			return h, 0, err
		}
		data, err := raw()
		if err != nil {
			return h, 0, err
		}
		return h, int64(len(data)), addBytes(blobName(h), data)
	}

	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime}); err != nil {
			return err
		}
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	dm := dockerManifest{RepoTags: []string{ref.String()}}
	for _, l := range layers {
		digest, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		err = add(blobName(digest), size, rc)
		rc.Close()
		if err != nil {
			return err
		}
		dm.Layers = append(dm.Layers, blobName(digest))
	}
	cfgName, _, err := addRaw(img.ConfigName, img.RawConfigFile)
	if err != nil {
		return err
	}
	dm.Config = blobName(cfgName)
	digest, manifestSize, err := addRaw(img.Digest, img.RawManifest)
	if err != nil {
		return err
	}
	mt, err := img.MediaType()
	if err != nil {
		return err
	}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: mt, Digest: digest, Size: manifestSize, Annotations: refAnnotations(ref),
		}},
	}
	for _, e := range []struct {
		name string
		v    any
	}{{"oci-layout", map[string]string{"imageLayoutVersion": "1.0.0"}}, {"index.json", index}, {"manifest.json", []dockerManifest{dm}}} {
		data, err := json.Marshal(e.v)
		if err != nil {
			return err
		}
		if err := addBytes(e.name, data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// Written is what WriteAll wrote.
type Written struct {
	Layout   string            // the OCI layout directory, all platforms
	Archives map[string]string // os/arch -> single-platform archive
}

// WriteAll writes idx, named ref, to dir: dir/oci, an OCI layout of every
// platform (crane push dir/oci REF pushes the multi-platform image), and
// dir/placer-scheduler-OS-ARCH.tar, one archive per platform (docker load,
// podman load, kind load image-archive, crane push FILE).
func WriteAll(dir string, idx v1.ImageIndex, ref name.Tag, mtime time.Time) (Written, error) {
	w := Written{Layout: filepath.Join(dir, "oci"), Archives: map[string]string{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return w, err
	}
	if err := WriteLayout(w.Layout, idx, ref); err != nil {
		return w, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return w, err
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return w, err
		}
		plat := d.Platform.OS + "/" + d.Platform.Architecture
		file := filepath.Join(dir, fmt.Sprintf("placer-scheduler-%s-%s.tar", d.Platform.OS, d.Platform.Architecture))
		if err := WriteArchive(file, img, ref, mtime); err != nil {
			return w, fmt.Errorf("%s: %w", plat, err)
		}
		w.Archives[plat] = file
	}
	return w, nil
}
