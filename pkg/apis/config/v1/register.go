package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	schedschemev1 "k8s.io/kube-scheduler/config/v1"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/placer-dev/placer/pkg/apis/config/internal/kinds"
)

// SchemeGroupVersion is the version users write in configuration files.
var SchemeGroupVersion = schema.GroupVersion{Group: schedconfig.GroupName, Version: "v1"}

var (
	// See the internal package's register.go for why this is the
	// kube-scheduler's own builder. The generated conversions register
	// through it by this name.
	localSchemeBuilder = &schedschemev1.SchemeBuilder
	// AddToScheme adds Placer's v1 argument types, their defaults and
	// conversions to a scheme.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func init() {
	localSchemeBuilder.Register(kinds.Of(SchemeGroupVersion, &ResourceAwareArgs{}, &ZoneSpreadArgs{}, &StatefulSetAwareArgs{}, &ExplainArgs{}),
		RegisterDefaults, RegisterConversions)
}
