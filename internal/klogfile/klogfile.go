// Package klogfile sends klog, the log of the API server, the scheduler and
// the controllers that placer-bench runs in its own process, to a file, so
// that the terminal shows the harness's output only.
package klogfile

import (
	"flag"
	"io"
	"os"

	"k8s.io/klog/v2"
)

// Route sends klog, at -v=0, to the file at path, made 0600: emptied first,
// or with appendTo added to (each run's process appends to what the
// process that started it wrote). An empty path discards the logs. The
// returned func flushes klog and closes the file.
func Route(path string, appendTo bool) (func(), error) {
	var w io.Writer = io.Discard
	var f *os.File
	if path != "" {
		mode := os.O_TRUNC
		if appendTo {
			mode = os.O_APPEND
		}
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|mode, 0o600); err != nil {
			return nil, err
		}
		w = f
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	_ = fs.Set("v", "0")
	klog.SetOutput(w)
	return func() {
		klog.Flush()
		if f != nil {
			f.Close()
		}
	}, nil
}
