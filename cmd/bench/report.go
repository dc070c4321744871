package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/placer-dev/placer/pkg/bench/report"
	"github.com/placer-dev/placer/pkg/bench/session"
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

// newRunProfileCommand is the hidden `placer-bench run-profile --spec FILE`
// that a session starts for each of its runs.
func newRunProfileCommand() *command {
	fs := flag.NewFlagSet(session.ChildCommand, flag.ContinueOnError)
	specFile := fs.String("spec", "", "the run to make (written by placer-bench run)")
	return &command{name: session.ChildCommand, run: func(ctx context.Context, args []string) int {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		return exitStatus("placer-bench "+session.ChildCommand, session.ChildMain(ctx, *specFile))
	}}
}
