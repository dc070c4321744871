package session

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows how a run advances: on a terminal, one line redrawn in
// place with a bar and the current rate; elsewhere (CI logs, files), a plain
// line per update.
type progress struct {
	w        io.Writer
	terminal bool

	mu       sync.Mutex
	op       string
	lastTime time.Time
	lastDone int
	open     bool // a redrawn line is on screen
}

func newProgress(f *os.File) *progress {
	return &progress{w: f, terminal: term.IsTerminal(int(f.Fd()))}
}

const barWidth = 30

// update reports created, bound and unschedulable pods during an op.
func (p *progress) update(op string, created, bound, unsched int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	rate := 0.0
	if p.op == op && !p.lastTime.IsZero() {
		if dt := now.Sub(p.lastTime).Seconds(); dt > 0 {
			rate = float64(bound-p.lastDone) / dt
		}
	}
	p.op, p.lastTime, p.lastDone = op, now, bound
	if !p.terminal {
		fmt.Fprintf(p.w, "  %s: %d/%d pods bound, %d unschedulable\n", op, bound, created, unsched)
		return
	}
	filled := 0
	if created > 0 {
		filled = barWidth * (bound + unsched) / created
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled)
	fmt.Fprintf(p.w, "\r  %-16s [%s] %d/%d bound, %d unschedulable, %.0f pods/s   ", op, bar, bound, created, unsched, rate)
	p.open = true
	if bound+unsched == created {
		p.finish()
	}
}

// finish ends a redrawn line, so that what follows starts on its own.
func (p *progress) finish() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
