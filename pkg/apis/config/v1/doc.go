// Package v1 holds the versioned (kubescheduler.config.k8s.io/v1) types of
// the arguments of Placer's scheduler plugins, their defaults and their
// conversions to the internal types.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/placer-dev/placer/pkg/apis/config
// +k8s:defaulter-gen=TypeMeta
// +k8s:defaulter-gen-input=github.com/placer-dev/placer/pkg/apis/config/v1
// +groupName=kubescheduler.config.k8s.io
package v1
