package session

import (
	"strings"
	"testing"
)

func TestProgressPlainLinesOffTerminal(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b}
	p.update("barrier", 10, 4, 1)
	p.update("barrier", 10, 9, 1)
	want := "  barrier: 4/10 pods bound, 1 unschedulable\n  barrier: 9/10 pods bound, 1 unschedulable\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestProgressBarOnTerminal(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, terminal: true}
	p.update("barrier", 10, 5, 0)
	if out := b.String(); !strings.HasPrefix(out, "\r  barrier") || !strings.Contains(out, "[###############---------------] 5/10 bound") || strings.Contains(out, "\n") {
		t.Errorf("half-way line %q", out)
	}
	// When every pod is placed or unschedulable, the line is closed.
	p.update("barrier", 10, 9, 1)
	if out := b.String(); !strings.HasSuffix(out, "\n") || !strings.Contains(out, "[##############################] 9/10 bound, 1 unschedulable") {
		t.Errorf("final line %q", out)
	}
	p.finish() // nothing more to close
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("extra newline: %q", b.String())
	}
}
