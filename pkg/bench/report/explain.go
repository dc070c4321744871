package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/explanation"
)

// ReadPlacements loads each profile's placements export from dir into its
// representative run, for the explained placements. A profile without one
// (an older directory) keeps none.
func ReadPlacements(dir string, r *Report) error {
	for _, p := range r.Profiles {
		path := filepath.Join(dir, fmt.Sprintf(PlacementsFile, p.Profile))
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		var placements []result.Placement
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for line := 1; sc.Scan(); line++ {
			var pl result.Placement
			if err := json.Unmarshal(sc.Bytes(), &pl); err != nil {
				f.Close()
				return fmt.Errorf("%s line %d: %w", path, line, err)
			}
			placements = append(placements, pl)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		p.SetPlacements(placements)
	}
	return nil
}

// Explained is one pod's explanation under each profile of a report, in
// the report's order; nil where the profile did not explain it.
type Explained struct {
	Namespace, Name string
	Profiles        []string
	Explanations    []*explanation.Explanation
}

// ID is the pod's namespace/name.
func (e Explained) ID() string { return e.Namespace + "/" + e.Name }

// ExplainedPods lists the pods explained in the report's representative
// runs, those explained under every profile first, then by name.
func ExplainedPods(r *Report) []Explained {
	byPod := map[string]*Explained{}
	var names []string
	for _, p := range r.Profiles {
		names = append(names, p.Profile)
	}
	for i, p := range r.Profiles {
		for _, pl := range p.Placements() {
			if pl.Explanation == nil || pl.Deleted {
				continue
			}
			id := pl.Namespace + "/" + pl.Name
			e, ok := byPod[id]
			if !ok {
				e = &Explained{Namespace: pl.Namespace, Name: pl.Name, Profiles: names,
					Explanations: make([]*explanation.Explanation, len(r.Profiles))}
				byPod[id] = e
			}
			e.Explanations[i] = pl.Explanation
		}
	}
	out := make([]Explained, 0, len(byPod))
	for _, e := range byPod {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := out[i].count(), out[j].count()
		if ci != cj {
			return ci > cj
		}
		return out[i].ID() < out[j].ID()
	})
	return out
}

func (e Explained) count() int {
	n := 0
	for _, x := range e.Explanations {
		if x != nil {
			n++
		}
	}
	return n
}

// FindExplained returns the explained pods that pod names: namespace/name,
// or a name in any namespace.
func FindExplained(r *Report, pod string) []Explained {
	var out []Explained
	for _, e := range ExplainedPods(r) {
		if e.ID() == pod || (!strings.Contains(pod, "/") && e.Name == pod) {
			out = append(out, e)
		}
	}
	return out
}

// Text is the pod's explanations one profile after the other, as
// placer-bench explain prints them.
func (e Explained) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pod %s\n", e.ID())
	for i, x := range e.Explanations {
		fmt.Fprintf(&b, "\nprofile %s:\n", e.Profiles[i])
		if x == nil {
			fmt.Fprintln(&b, "  not explained in this profile's run")
			continue
		}
		x.Print(&b)
	}
	return b.String()
}

// Explain is placer-bench explain: the explanations of pod (NAMESPACE/NAME
// or NAME) under each profile of the run in dir. The error of a pod that
// was not explained lists some that were.
func Explain(dir, pod string) (string, error) {
	r, err := Read(dir)
	if err != nil {
		return "", err
	}
	if err := ReadPlacements(dir, r); err != nil {
		return "", err
	}
	found := FindExplained(r, pod)
	if len(found) == 0 {
		all := ExplainedPods(r)
		if len(all) == 0 {
			return "", fmt.Errorf("%s: no pod was explained in this run (placer-bench run --explain PERCENT explains a sample)", dir)
		}
		var some []string
		for _, e := range all[:min(len(all), 5)] {
			some = append(some, e.ID())
		}
		return "", fmt.Errorf("%s: pod %s was not explained; %d were, such as %s", dir, pod, len(all), strings.Join(some, ", "))
	}
	var b strings.Builder
	for i, e := range found {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Text())
	}
	return b.String(), nil
}
