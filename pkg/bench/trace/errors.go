package trace

import (
	"fmt"
	"strconv"
	"strings"
)

// InputError is a bad cell, row or record of a trace file: where it is and
// what is wrong, so that the user can fix the file without guessing.
type InputError struct {
	File string
	// Line counts from 1; Column is the column's (or JSON field's) name;
	// Value the text found there.
	Line    int
	Column  string
	Value   string
	Problem string
}

func (e *InputError) Error() string {
	msg := e.File
	if e.Line > 0 {
		msg += ":" + strconv.Itoa(e.Line)
	}
	if e.Column != "" {
		msg += ": column " + e.Column
	}
	// A missing column or a short row has no value to show; an empty cell
	// says so in Problem.
	if e.Value != "" {
		msg += fmt.Sprintf(": value %q", clip(e.Value))
	}
	return msg + ": " + e.Problem
}

// clip keeps an error message readable when a cell is a whole corrupt file.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// parseInt reads a whole number in [0, limit]; a cell like "12000.0" is
// accepted when it is whole, since spreadsheets write them so.
func parseInt(file string, line int, column, cell string, limit int64) (int64, error) {
	bad := func(problem string) error {
		return &InputError{File: file, Line: line, Column: column, Value: cell, Problem: problem}
	}
	if cell == "" {
		return 0, bad("empty cell: want a whole number")
	}
	v, err := strconv.ParseInt(cell, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(cell, 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, bad("not a whole number")
		}
		if f > float64(limit) || f < -float64(limit) {
			return 0, bad(fmt.Sprintf("above the limit of %d", limit))
		}
		v = int64(f)
	}
	switch {
	case v < 0:
		return 0, bad("negative: want 0 or more")
	case v > limit:
		return 0, bad(fmt.Sprintf("above the limit of %d", limit))
	}
	return v, nil
}

// parseSeconds reads a time in seconds in [0, MaxSeconds].
func parseSeconds(file string, line int, column, cell string) (float64, error) {
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		return 0, &InputError{File: file, Line: line, Column: column, Value: cell, Problem: "not a number of seconds"}
	}
	if !validTime(v) {
		return 0, &InputError{File: file, Line: line, Column: column, Value: cell, Problem: fmt.Sprintf("want seconds from 0 to %g", float64(MaxSeconds))}
	}
	return v, nil
}

// MaxNameLength bounds node and pod names: a Kubernetes name has at most
// 253 characters, and a drawn pod gets "-<n>" appended.
const MaxNameLength = 240

// validName reports whether s can name a Kubernetes node or pod: lower-case
// letters, digits, '-' and '.', starting and ending with a letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' && c != '.' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

const nameRule = "want a Kubernetes name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 240 characters"

// validLabelValue reports whether s can be a label value (and a label
// key's name part): at most 63 letters, digits, '-', '_' and '.',
// starting and ending with a letter or digit.
func validLabelValue(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' && c != '_' && c != '.' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// validLabelKey: an optional DNS prefix and '/', then a name part.
func validLabelKey(s string) bool {
	prefix, name, hasPrefix := strings.Cut(s, "/")
	if !hasPrefix {
		name = prefix
	} else if !validName(prefix) || len(prefix) > 253 {
		return false
	}
	return name != "" && validLabelValue(name)
}

// checkLabels checks a map of labels (or a node selector) of a record.
func checkLabels(file string, line int, column string, labels map[string]string) error {
	for k, v := range labels {
		if !validLabelKey(k) {
			return &InputError{File: file, Line: line, Column: column, Value: k, Problem: "not a label key: want [prefix/]name, the name at most 63 letters, digits, '-', '_' or '.'"}
		}
		if !validLabelValue(v) {
			return &InputError{File: file, Line: line, Column: column + "." + k, Value: v, Problem: "not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"}
		}
	}
	return nil
}
