// Package preferlabel is a scheduler plugin written outside Placer, to show
// how a plugin author tests one with Placer's test kit (pkg/testkit).
// PreferLabel is a Score plugin: nodes that carry a label score above those
// that do not, so pods go there while they fit and elsewhere when not.
package preferlabel

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "PreferLabel"

// Args are the plugin's arguments (pluginConfig[].args): nodes with the
// label Label, and the value Value when it is set, are preferred.
type Args struct {
	Label string `json:"label"`
	Value string `json:"value,omitempty"`
}

// PreferLabel scores preferred nodes MaxNodeScore and the others 0.
type PreferLabel struct {
	args Args
}

var _ framework.ScorePlugin = &PreferLabel{}

// New builds the plugin. Its argument type is not registered in the
// scheduler's scheme, so the args arrive as raw JSON.
func New(_ context.Context, obj runtime.Object, _ framework.Handle) (framework.Plugin, error) {
	var args Args
	if err := frameworkruntime.DecodeInto(obj, &args); err != nil {
		return nil, fmt.Errorf("%s args: %w", Name, err)
	}
	if args.Label == "" {
		return nil, fmt.Errorf("%s args: label is required", Name)
	}
	return &PreferLabel{args: args}, nil
}

// Name returns the plugin's name.
func (pl *PreferLabel) Name() string { return Name }

// Score is MaxNodeScore on a preferred node, 0 on any other.
func (pl *PreferLabel) Score(_ context.Context, _ fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	v, ok := nodeInfo.Node().Labels[pl.args.Label]
	if ok && (pl.args.Value == "" || v == pl.args.Value) {
		return framework.MaxNodeScore, nil
	}
	return 0, nil
}

// ScoreExtensions is nil: scores are already in [0, MaxNodeScore].
func (pl *PreferLabel) ScoreExtensions() framework.ScoreExtensions { return nil }
