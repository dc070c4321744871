// Package wanterr checks an error against the fragments a table-driven
// test wants its message to hold, the way the validation tests state what
// each case must report.
package wanterr

import (
	"strings"
	"testing"
)

// Check fails t unless err is nil for an empty want, or else an error whose
// message holds every fragment of want; what names the call in messages.
func Check(t testing.TB, what string, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("%s = %v, want nil", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s = nil, want %q", what, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s = %q, lacks %q", what, err, w)
		}
	}
}
