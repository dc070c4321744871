package config

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/placer-dev/placer/pkg/apis/config/internal/kinds"
)

// SchemeGroupVersion is the internal version of the scheduler configuration group.
var SchemeGroupVersion = schema.GroupVersion{Group: schedconfig.GroupName, Version: runtime.APIVersionInternal}

// AddToScheme adds Placer's internal argument types to a scheme.
//
// The kube-scheduler converts plugin arguments with a scheme of its own
// that it builds from its SchemeBuilder (see
// k8s.io/kubernetes/pkg/scheduler/apis/config/v1.GetPluginArgConversionScheme).
// Registering through that same builder is what makes our kinds
// convertible there.
var AddToScheme = schedconfig.SchemeBuilder.AddToScheme

func init() {
	schedconfig.SchemeBuilder.Register(kinds.Of(SchemeGroupVersion, &ResourceAwareArgs{}, &ZoneSpreadArgs{}, &StatefulSetAwareArgs{}, &ExplainArgs{}))
}
