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
