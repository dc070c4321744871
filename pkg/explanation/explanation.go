// Package explanation is what the Explain scheduler plugin says about a
// pod's placement, as plain data: the chosen node's score per plugin, the
// next best nodes, and how many nodes each filter plugin rejected. The
// plugin writes it to the pod (an annotation and an Event); the benchmark
// harness reads it back from the pods of a run; `placer-bench explain`
// prints it. It links no scheduler.
package explanation

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

const (
	// RequestAnnotation on a pod asks for an explanation ("true") or
	// declines one even when the profile samples ("false").
	RequestAnnotation = "placer.dev/explain"
	// Annotation holds the explanation, JSON, at most MaxAnnotationBytes.
	Annotation = "placer.dev/explanation"
	// EventReason is the reason of the Event that carries the explanation
	// as one line: kubectl get events --field-selector reason=Explained.
	EventReason = "Explained"
	// MaxAnnotationBytes bounds the annotation: a pod's annotations share
	// 256 KiB, and the explanation must leave the pod's own room.
	MaxAnnotationBytes = 8 << 10
	// MaxNoteBytes is the API server's limit on an Event's note (message).
	MaxNoteBytes = 1024
	// maxReasonBytes shortens a filter's example reason in the annotation
	// when it does not fit whole.
	maxReasonBytes = 160
)

// Explanation is why a pod went where it did, or why it went nowhere.
type Explanation struct {
	// Profile is the scheduler profile (schedulerName) that decided.
	Profile string `json:"profile"`
	// Node is the chosen node; empty when no node would take the pod.
	Node string `json:"node,omitempty"`
	// Nodes is how many nodes the scheduler knew of; Feasible how many of
	// them passed every filter; Scored how many it compared by score (it
	// stops looking once it has enough: percentageOfNodesToScore).
	Nodes    int `json:"nodes"`
	Feasible int `json:"feasible"`
	Scored   int `json:"scored"`
	// Chosen is the chosen node's score; NextBest the best scored nodes
	// after it, best first. Both are absent when nothing was scored (one
	// feasible node, or none).
	Chosen   *NodeScore  `json:"chosen,omitempty"`
	NextBest []NodeScore `json:"nextBest,omitempty"`
	// Rejected says, per filter plugin, how many nodes it turned away, with
	// one of them and its reason; the plugins that rejected most come first.
	Rejected []Rejection `json:"rejected,omitempty"`
	// Truncated is set when next best nodes or reasons were cut to keep
	// the annotation within MaxAnnotationBytes.
	Truncated bool `json:"truncated,omitempty"`
}

// NodeScore is one node's total score and its parts.
type NodeScore struct {
	Node    string        `json:"node"`
	Total   int64         `json:"total"`
	Plugins []PluginScore `json:"plugins"`
}

// PluginScore is one score plugin's verdict on a node: Raw is its
// normalized score (0-100), Score = Raw × Weight what counted in the total.
type PluginScore struct {
	Plugin string `json:"plugin"`
	Raw    int64  `json:"raw"`
	Weight int32  `json:"weight"`
	Score  int64  `json:"score"`
}

// Rejection is one filter plugin's share of the nodes turned away.
type Rejection struct {
	Plugin string `json:"plugin"`
	Nodes  int    `json:"nodes"`
	// Example is one node it rejected, and Reason why.
	Example string `json:"example"`
	Reason  string `json:"reason"`
}

// Encode returns the explanation as the annotation's JSON, within
// MaxAnnotationBytes: next best nodes are dropped from the end, then
// reasons shortened, then the rarest rejections dropped, until it fits.
func (e *Explanation) Encode() ([]byte, error) {
	c := *e
	c.NextBest = append([]NodeScore(nil), e.NextBest...)
	c.Rejected = append([]Rejection(nil), e.Rejected...)
	for {
		data, err := json.Marshal(&c)
		if err != nil || len(data) <= MaxAnnotationBytes {
			return data, err
		}
		c.Truncated = true
		switch {
		case len(c.NextBest) > 0:
			c.NextBest = c.NextBest[:len(c.NextBest)-1]
		case shortenReasons(c.Rejected):
		case len(c.Rejected) > 0:
			c.Rejected = c.Rejected[:len(c.Rejected)-1]
		default:
			return nil, fmt.Errorf("an explanation of %d bytes does not fit in %d", len(data), MaxAnnotationBytes)
		}
	}
}

// shortenReasons cuts long reasons once; it reports whether any was cut.
func shortenReasons(rs []Rejection) bool {
	cut := false
	for i := range rs {
		if len(rs[i].Reason) > maxReasonBytes {
			rs[i].Reason = truncate(rs[i].Reason, maxReasonBytes)
			cut = true
		}
	}
	return cut
}

// Decode reads an annotation's value.
func Decode(value string) (*Explanation, error) {
	var e Explanation
	if err := json.Unmarshal([]byte(value), &e); err != nil {
		return nil, fmt.Errorf("annotation %s: %w", Annotation, err)
	}
	return &e, nil
}

// Note is the explanation in one line of at most MaxNoteBytes, for the Event.
func (e *Explanation) Note() string {
	var b strings.Builder
	if e.Node == "" {
		fmt.Fprintf(&b, "no node fits: 0/%d nodes passed the filters", e.Nodes)
	} else {
		fmt.Fprintf(&b, "on %s", e.Node)
		if e.Chosen != nil {
			fmt.Fprintf(&b, ": %s", e.Chosen.sum())
		}
		for i, n := range e.NextBest {
			sep := ", "
			if i == 0 {
				sep = "; next best: "
			}
			fmt.Fprintf(&b, "%s%s %d", sep, n.Node, n.Total)
		}
		fmt.Fprintf(&b, "; %d/%d nodes passed the filters, %d scored", e.Feasible, e.Nodes, e.Scored)
	}
	for i, r := range e.Rejected {
		sep := ", "
		if i == 0 {
			sep = "; rejected by "
		}
		fmt.Fprintf(&b, "%s%s %d (%s: %s)", sep, r.Plugin, r.Nodes, r.Example, r.Reason)
	}
	return truncate(b.String(), MaxNoteBytes)
}

// sum is "total = plugin score (raw×weight) + ...".
func (n *NodeScore) sum() string {
	parts := make([]string, len(n.Plugins))
	for i, p := range n.Plugins {
		parts[i] = fmt.Sprintf("%s %d (%d×%d)", p.Plugin, p.Score, p.Raw, p.Weight)
	}
	return fmt.Sprintf("%d = %s", n.Total, strings.Join(parts, " + "))
}

// Print writes the explanation for a person, a line per node and plugin.
func (e *Explanation) Print(w io.Writer) {
	if e.Node == "" {
		fmt.Fprintf(w, "unschedulable under %s: none of %d nodes passed the filters\n", e.Profile, e.Nodes)
	} else {
		fmt.Fprintf(w, "on %s under %s: %d of %d nodes passed the filters, %d scored\n", e.Node, e.Profile, e.Feasible, e.Nodes, e.Scored)
	}
	if e.Chosen != nil {
		printNode(w, "chosen", e.Chosen)
	}
	for i := range e.NextBest {
		printNode(w, fmt.Sprintf("next %d", i+1), &e.NextBest[i])
	}
	if len(e.Rejected) > 0 {
		fmt.Fprintln(w, "  filters:")
	}
	for _, r := range e.Rejected {
		fmt.Fprintf(w, "    %-28s rejected %6d nodes, e.g. %s: %s\n", r.Plugin, r.Nodes, r.Example, r.Reason)
	}
	if e.Truncated {
		fmt.Fprintln(w, "  (shortened to fit the annotation)")
	}
}

func printNode(w io.Writer, label string, n *NodeScore) {
	fmt.Fprintf(w, "  %-7s %-30s total %6d\n", label, n.Node, n.Total)
	for _, p := range n.Plugins {
		fmt.Fprintf(w, "          %-30s %6d = %3d × %d\n", p.Plugin, p.Score, p.Raw, p.Weight)
	}
}

// truncate cuts s to at most n bytes on a rune boundary, ending in "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
