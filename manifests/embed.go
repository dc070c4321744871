// Package manifests makes the shipped scheduler configuration available to
// Go code (the benchmark harness and tests), so there is one file to keep true.
package manifests

import _ "embed"

// SchedulerConfig is scheduler-config.yaml: the KubeSchedulerConfiguration
// with the "placer" profile.
//
//go:embed scheduler-config.yaml
var SchedulerConfig []byte
