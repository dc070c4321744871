package explanation

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// worst is an explanation larger than any bound: ten next best nodes of
// twenty plugins with long names, and thirty filter plugins with long,
// multi-byte reasons.
func worst() *Explanation {
	node := func(i int) NodeScore {
		n := NodeScore{Node: fmt.Sprintf("a-rather-long-node-name-in-zone-a-%05d", i), Total: 1234}
		for j := range 20 {
			n.Plugins = append(n.Plugins, PluginScore{Plugin: fmt.Sprintf("SomeOutOfTreeScorePlugin%02d", j), Raw: 99, Weight: 5, Score: 495})
		}
		return n
	}
	e := &Explanation{Profile: "placer", Node: "n", Nodes: 50000, Feasible: 3, Scored: 3}
	c := node(0)
	e.Chosen = &c
	for i := 1; i <= 10; i++ {
		e.NextBest = append(e.NextBest, node(i))
	}
	for i := range 30 {
		e.Rejected = append(e.Rejected, Rejection{Plugin: fmt.Sprintf("FilterPlugin%02d", i), Nodes: 49997 - i,
			Example: "a-rather-long-node-name-in-zone-b-00001", Reason: strings.Repeat("Insufficient ☃ ", 200)})
	}
	return e
}

func TestEncodeStaysWithinTheBound(t *testing.T) {
	e := worst()
	data, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxAnnotationBytes {
		t.Fatalf("%d bytes, bound %d", len(data), MaxAnnotationBytes)
	}
	got, err := Decode(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || got.Chosen == nil || got.Chosen.Node != e.Chosen.Node || len(got.Rejected) == 0 {
		t.Errorf("shortened explanation lost the essentials: truncated %v, chosen %v, %d rejections", got.Truncated, got.Chosen, len(got.Rejected))
	}
	for _, r := range got.Rejected {
		if !utf8.ValidString(r.Reason) {
			t.Errorf("reason cut inside a character: %q", r.Reason)
		}
	}
	// The caller's explanation is left whole.
	if len(e.NextBest) != 10 || len(e.Rejected) != 30 || len(e.Rejected[0].Reason) < 1000 {
		t.Errorf("Encode changed its explanation")
	}
}

func TestEncodeLeavesASmallExplanationWhole(t *testing.T) {
	e := &Explanation{Profile: "placer", Node: "node-a", Nodes: 2, Feasible: 2, Scored: 2,
		Chosen: &NodeScore{Node: "node-a", Total: 588, Plugins: []PluginScore{{Plugin: "ResourceAware", Raw: 96, Weight: 3, Score: 288}}}}
	data, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(e)
	if string(data) != string(want) {
		t.Errorf("got %s, want %s", data, want)
	}
	if note := e.Note(); note != "on node-a: 588 = ResourceAware 288 (96×3); 2/2 nodes passed the filters, 2 scored" {
		t.Errorf("note %q", note)
	}
}

func TestNoteFitsAnEvent(t *testing.T) {
	note := worst().Note()
	if len(note) > MaxNoteBytes || !utf8.ValidString(note) || !strings.HasSuffix(note, "...") {
		t.Errorf("note of %d bytes (bound %d), valid UTF-8 %v, ends %q", len(note), MaxNoteBytes, utf8.ValidString(note), note[len(note)-10:])
	}
	un := &Explanation{Profile: "placer", Nodes: 2, Rejected: []Rejection{{Plugin: "NodeResourcesFit", Nodes: 2, Example: "node-a", Reason: "Insufficient cpu"}}}
	if got, want := un.Note(), "no node fits: 0/2 nodes passed the filters; rejected by NodeResourcesFit 2 (node-a: Insufficient cpu)"; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
}

func TestDecodeNamesTheAnnotation(t *testing.T) {
	if _, err := Decode("{not json"); err == nil || !strings.Contains(err.Error(), Annotation) {
		t.Errorf("error %v, want one naming %s", err, Annotation)
	}
}
