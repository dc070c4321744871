// Command image-archive builds the placer-scheduler container image from
// prebuilt static binaries, with no container engine, and writes it as an
// OCI layout and per-platform archives (pkg/imagearchive does the work).
// make image-archive runs it; see README.md, "Install on a cluster".
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/placer-dev/placer/pkg/imagearchive"
)

type binaries []imagearchive.Binary

func (b *binaries) String() string { return fmt.Sprint(*b) }
func (b *binaries) Set(s string) error {
	bin, err := imagearchive.ParseBinary(s)
	if err == nil {
		*b = append(*b, bin)
	}
	return err
}

func main() {
	var bins binaries
	var opts imagearchive.Options
	flag.Var(&bins, "binary", "os/arch=path of a static placer-scheduler build; repeat per platform")
	image := flag.String("image", "placer-scheduler:dev", "the image's name and tag")
	out := flag.String("out", "_output/image", "directory to write oci/ and placer-scheduler-OS-ARCH.tar to")
	flag.StringVar(&opts.Version, "version", "", "label org.opencontainers.image.version")
	flag.StringVar(&opts.Revision, "revision", "", "label org.opencontainers.image.revision (the commit)")
	flag.StringVar(&opts.Source, "source", "", "label org.opencontainers.image.source (the repository URL)")
	created := flag.String("created", "", "RFC 3339 creation time of the image and its files (e.g. the commit's time, for reproducible digests)")
	flag.Parse()
	if err := run(bins, opts, *image, *out, *created); err != nil {
		fmt.Fprintln(os.Stderr, "image-archive:", err)
		os.Exit(1)
	}
}

func run(bins binaries, opts imagearchive.Options, image, out, created string) error {
	if created == "" {
		return fmt.Errorf("--created is required")
	}
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return fmt.Errorf("--created: %w", err)
	}
	ref, err := imagearchive.Tag(image)
	if err != nil {
		return fmt.Errorf("--image: %w", err)
	}
	opts.Binaries, opts.Created = bins, t
	idx, err := imagearchive.Build(opts)
	if err != nil {
		return err
	}
	w, err := imagearchive.WriteAll(out, idx, ref, t)
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n  %s (OCI layout, all platforms)\n", ref, digest, w.Layout)
	plats := make([]string, 0, len(w.Archives))
	for p := range w.Archives {
		plats = append(plats, p)
	}
	sort.Strings(plats)
	for _, p := range plats {
		st, err := os.Stat(w.Archives[p])
		if err != nil {
			return err
		}
		fmt.Printf("  %s (%s, %.1f MB)\n", w.Archives[p], strings.TrimSpace(p), float64(st.Size())/1e6)
	}
	return nil
}
