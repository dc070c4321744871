// Package version separates Placer's own version from the Kubernetes version
// of the scheduler framework it embeds.
//
// The build stamps Placer's version (from git describe) into the
// component-base version variables, so --version and the /version endpoint
// report it. The scheduler, however, derives its compatibility version, and
// with it which feature gates exist and their defaults, from those same
// variables: a binary stamped v0.1.0 would try to emulate Kubernetes 0.1.
// PinKubeComponentVersion registers the embedded framework's real version
// before the scheduler looks, which keeps the two apart.
package version

import (
	utilcompatibility "k8s.io/apimachinery/pkg/util/version"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	baseversion "k8s.io/component-base/version"

	"k8s.io/apiserver/pkg/util/compatibility"
)

// KubernetesVersion is the minor version of the scheduler framework Placer is
// built on (k8s.io/kubernetes in go.mod).
var KubernetesVersion = baseversion.DefaultKubeBinaryVersion

// PinKubeComponentVersion registers the Kubernetes component's effective
// version as the embedded framework's, whatever Placer's own version says.
// It is idempotent.
func PinKubeComponentVersion() {
	registry := compatibility.DefaultComponentGlobalsRegistry
	if registry.EffectiveVersionFor(basecompatibility.DefaultKubeComponent) != nil {
		return
	}
	binary := utilcompatibility.MustParse(KubernetesVersion)
	// Kubernetes supports emulating the three previous minor versions.
	floor := binary.SubtractMinor(3)
	effective := basecompatibility.NewEffectiveVersion(binary, false, floor, floor)
	var gate featuregate.MutableVersionedFeatureGate = utilfeature.DefaultMutableFeatureGate
	if err := registry.Register(basecompatibility.DefaultKubeComponent, effective, gate); err != nil {
		panic(err)
	}
}
