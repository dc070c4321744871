package live

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Each profile's run is a process of its own; its live figures reach the
// parent, which serves them, as one line per event over a pipe:
//
//	op <index> <name> | finished | created | bound <nanoseconds> | unschedulable

// Relay is the run's side: it writes each event as a line to w.
type Relay struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// NewRelay writes events to w.
func NewRelay(w io.Writer) *Relay { return &Relay{w: bufio.NewWriter(w)} }

func (r *Relay) send(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A parent gone away takes the live figures with it; the run goes on.
	fmt.Fprintf(r.w, format+"\n", args...)
	_ = r.w.Flush()
}

// OpStarted relays the start of ops[index].
func (r *Relay) OpStarted(index int, op string) { r.send("op %d %s", index, op) }

// Finished relays the end of the last op.
func (r *Relay) Finished() { r.send("finished") }

// PodCreated relays a pod created.
func (r *Relay) PodCreated() { r.send("created") }

// PodBound relays a pod bound after latency.
func (r *Relay) PodBound(latency time.Duration) { r.send("bound %d", latency.Nanoseconds()) }

// PodUnschedulable relays a pod found unschedulable.
func (r *Relay) PodUnschedulable() { r.send("unschedulable") }

// Replay reads a Relay's lines from rd until it ends and applies them to m,
// the metrics of the profile now running (StartProfile). A line it does not
// know is an error: both ends are this program.
func (m *Metrics) Replay(rd io.Reader) error {
	lines := bufio.NewScanner(rd)
	for lines.Scan() {
		word, rest, _ := strings.Cut(lines.Text(), " ")
		switch word {
		case "op":
			index, op, _ := strings.Cut(rest, " ")
			i, err := strconv.Atoi(index)
			if err != nil {
				return fmt.Errorf("live relay: bad op line %q", lines.Text())
			}
			m.OpStarted(i, op)
		case "finished":
			m.Finished()
		case "created":
			m.PodCreated()
		case "bound":
			ns, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return fmt.Errorf("live relay: bad bound line %q", lines.Text())
			}
			m.PodBound(time.Duration(ns))
		case "unschedulable":
			m.PodUnschedulable()
		default:
			return fmt.Errorf("live relay: unknown line %q", lines.Text())
		}
	}
	return lines.Err()
}
