// Package kinds registers the argument kinds of Placer's plugins with a
// scheme builder, the same way for the internal and the v1 version.
package kinds

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Of returns what a SchemeBuilder registers to add objs to a scheme as
// kinds of gv.
func Of(gv schema.GroupVersion, objs ...runtime.Object) func(*runtime.Scheme) error {
	return func(s *runtime.Scheme) error {
		s.AddKnownTypes(gv, objs...)
		return nil
	}
}
