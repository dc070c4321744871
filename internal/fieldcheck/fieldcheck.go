// Package fieldcheck holds the two checks every validator of the project
// makes of names (plugin arguments, workload files): the value is present
// and well formed, and no other item of its list has it.
package fieldcheck

import (
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Name requires value (required says what is missing) and reports each
// message of check, one of k8s.io/apimachinery/pkg/util/validation's
// Is* functions, as an invalid value at p.
func Name(p *field.Path, value, required string, check func(string) []string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(p, required)}
	}
	var errs field.ErrorList
	for _, msg := range check(value) {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

// Unique remembers the values of one list, so that a value given twice is
// reported where it appears again.
type Unique struct{ seen sets.Set[string] }

// Check reports value as a duplicate at p if an earlier item had it.
func (u *Unique) Check(p *field.Path, value string) field.ErrorList {
	if u.seen == nil {
		u.seen = sets.New[string]()
	}
	if u.seen.Has(value) {
		return field.ErrorList{field.Duplicate(p, value)}
	}
	u.seen.Insert(value)
	return nil
}
