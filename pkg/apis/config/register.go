package config

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
)

// SchemeGroupVersion is the internal version of the scheduler configuration group.
var SchemeGroupVersion = schema.GroupVersion{Group: schedconfig.GroupName, Version: runtime.APIVersionInternal}

var (
	// The kube-scheduler converts plugin arguments with a scheme of its own
	// that it builds from its SchemeBuilder (see
	// k8s.io/kubernetes/pkg/scheduler/apis/config/v1.GetPluginArgConversionScheme).
	// Registering through that same builder is what makes our kinds
	// convertible there.
	localSchemeBuilder = &schedconfig.SchemeBuilder
	// AddToScheme adds Placer's internal argument types to a scheme.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&ResourceAwareArgs{},
		&ZoneSpreadArgs{},
		&StatefulSetAwareArgs{},
	)
	return nil
}

func init() {
	localSchemeBuilder.Register(addKnownTypes)
}
