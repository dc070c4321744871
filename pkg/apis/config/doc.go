// Package config holds the internal (unversioned) types of the arguments of
// Placer's scheduler plugins. They live in the kube-scheduler's own API group,
// kubescheduler.config.k8s.io, because the scheduler looks plugin arguments up
// there by kind ("<PluginName>Args").
//
// +k8s:deepcopy-gen=package
// +groupName=kubescheduler.config.k8s.io
package config
