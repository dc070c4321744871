// Command placer-bench is Placer's benchmark harness.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/placer-dev/placer/pkg/bench/report"
)

const usage = `placer-bench: measure and demonstrate Kubernetes scheduler profiles.

Usage:
  placer-bench run -f FILE [flags]  run a workload file with one or more scheduler profiles,
                                    side by side, and print the comparison
  placer-bench trace openb|file ... replay a workload trace (Alibaba OpenB, or the neutral format of
                                    docs/traces.md) with one or more profiles: the FGD paper's metric
  placer-bench report DIR           (re)write DIR/report.html and its SVG charts from DIR/report.json
  placer-bench cluster up [flags]   a local cluster to try Placer on: control plane, controllers,
                                    simulated nodes over zones, volumes, placer-scheduler

Run 'placer-bench <command> -h' for its flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(runBench(os.Args[2:]))
	case "trace":
		os.Exit(traceCommand(os.Args[2:]))
	case "cluster":
		os.Exit(cluster(os.Args[2:]))
	case "report":
		os.Exit(writeReportPage(os.Args[2:]))
	case childCommand:
		os.Exit(runProfileCommand(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "placer-bench: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

// commandContext sends the components' logs to logFile and returns a
// context that Ctrl-C or SIGTERM cancels; done undoes both. A log file that
// cannot be made is reported, and ok is false.
func commandContext(logFile string) (ctx context.Context, done func(), ok bool) {
	closeLog, err := quietLogs(logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: --log-file=%s: %v\n", logFile, err)
		return nil, nil, false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx, func() { stop(); closeLog() }, true
}

// quietLogs sends klog (the API server's and scheduler's logs) to a file, so
// that the terminal shows the harness's output only.
func quietLogs(path string) (func(), error) { return logTo(path, os.O_TRUNC) }

// logTo sends klog to the file at path, opened with mode (os.O_TRUNC for a
// run's first process, os.O_APPEND for each run's own after it); an empty
// path discards the logs.
func logTo(path string, mode int) (func(), error) {
	var w io.Writer = io.Discard
	var f *os.File
	if path != "" {
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|mode, 0o600); err != nil {
			return nil, err
		}
		w = f
	}
	flush := routeKlog(w)
	return func() {
		flush()
		if f != nil {
			f.Close()
		}
	}, nil
}

// routeKlog sends klog's output, at -v=0, to w only; the returned func
// flushes it.
func routeKlog(w io.Writer) func() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	_ = fs.Set("v", "0")
	klog.SetOutput(w)
	return klog.Flush
}

// writeReportPage is "placer-bench report DIR".
func writeReportPage(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: placer-bench report DIR (a run directory holding report.json)")
		return 2
	}
	r, err := report.Read(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench report: %v\n", err)
		return 1
	}
	if err := report.WritePage(args[0], r); err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench report: %v\n", err)
		return 1
	}
	fmt.Println(filepath.Join(args[0], report.PageFile))
	return 0
}
