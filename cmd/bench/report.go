package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/placer-dev/placer/pkg/bench/report"
)

// newReportCommand is `placer-bench report DIR`.
func newReportCommand() *command {
	return &command{name: "report", run: func(_ context.Context, args []string) int {
		if len(args) != 1 {
			fmt.Fprintln(os.Stderr, "usage: placer-bench report DIR (a run directory holding report.json)")
			return 2
		}
		r, err := report.Read(args[0])
		if err == nil {
			err = report.ReadPlacements(args[0], r)
		}
		if err == nil {
			err = report.WritePage(args[0], r)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench report: %v\n", err)
			return 1
		}
		fmt.Println(filepath.Join(args[0], report.PageFile))
		return 0
	}}
}

// newScalingCommand is `placer-bench scaling OUT DIR...`: the runs of
// workload shapes at several sizes (make bench-scaling), drawn against node
// count into OUT.
func newScalingCommand() *command {
	return &command{name: "scaling", run: func(_ context.Context, args []string) int {
		if len(args) < 2 {
			fmt.Fprintln(os.Stderr, "usage: placer-bench scaling OUT DIR... (run directories holding report.json, one a size)")
			return 2
		}
		out, dirs := args[0], args[1:]
		reports := make([]*report.Report, len(dirs))
		for i, d := range dirs {
			r, err := report.Read(d)
			if err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench scaling: %v\n", err)
				return 1
			}
			reports[i] = r
		}
		points, err := report.ScalingPoints(dirs, reports)
		if err == nil {
			err = os.MkdirAll(out, 0o755)
		}
		if err == nil {
			err = report.WriteScaling(out, points)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench scaling: %v\n", err)
			return 1
		}
		fmt.Print(report.ScalingTable(points))
		fmt.Println(filepath.Join(out, report.ScalingFile))
		return 0
	}}
}

// newExplainCommand is `placer-bench explain DIR POD`: why the pod went
// where it did under each profile of the run in DIR.
func newExplainCommand() *command {
	return &command{name: "explain", run: func(_ context.Context, args []string) int {
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: placer-bench explain DIR POD (a run directory, and a pod as NAMESPACE/NAME or NAME)")
			return 2
		}
		text, err := report.Explain(args[0], args[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench explain: %v\n", err)
			return 1
		}
		fmt.Print(text)
		return 0
	}}
}
