package localcluster

import (
	"strings"
	"testing"
)

// validate runs before Start touches anything: a count that would run the
// machine out of memory is refused with the value and the ceiling.
func TestOptionsCeiling(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{name: "nodes over the ceiling", opts: Options{Zones: 3, NodesPerZone: 100_000, MaxObjects: 250_000},
			want: "nodes per zone: 100000 in 3 zones makes 300000 nodes, more than the ceiling of 250000; " +
				"if that is meant and the machine has the memory (about 50 KiB a node), raise it with --max-objects"},
		// The product saturates instead of wrapping to a small number.
		{name: "overflowing product", opts: Options{Zones: 26, NodesPerZone: 1 << 62, MaxObjects: 250_000},
			want: "nodes per zone: 4611686018427387904 in 26 zones makes 9223372036854775807 nodes, more than the ceiling of 250000;"},
		{name: "pods per node", opts: Options{NodePods: 3_000_000_000},
			want: "node pods: 3000000000 is more than 2147483647, the most any count may be (Kubernetes counts are 32-bit)"},
		{name: "negative ceiling", opts: Options{MaxObjects: -1}, want: "--max-objects=-1: want 0 (the default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
	ok := Options{Zones: 3, NodesPerZone: 100_000, MaxObjects: 300_000}
	if err := ok.validate(); err != nil {
		t.Errorf("raised knowingly to 300000: %v", err)
	}
	def := Options{}
	if err := def.validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
