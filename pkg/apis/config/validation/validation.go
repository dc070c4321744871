// Package validation checks the arguments of Placer's plugins. Every error
// names the field as a user writes it in YAML (resources[1].weight) and the
// offending value, so a bad configuration file says what to fix.
package validation

import (
	"fmt"
	"math"
	"slices"

	v1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"

	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/placer-dev/placer/internal/fieldcheck"
	"github.com/placer-dev/placer/pkg/apis/config"
)

// ValidateResourceAwareArgs checks the arguments of the ResourceAware plugin.
func ValidateResourceAwareArgs(path *field.Path, args *config.ResourceAwareArgs) error {
	var errs field.ErrorList
	resPath := path.Child("resources")
	if len(args.Resources) == 0 {
		errs = append(errs, field.Required(resPath, "at least one resource must be scored"))
	}
	var seen fieldcheck.Unique
	for i, r := range args.Resources {
		p := resPath.Index(i)
		errs = append(errs, validateResourceName(p.Child("name"), r.Name)...)
		errs = append(errs, seen.Check(p.Child("name"), r.Name)...)
		errs = append(errs, validateWeight(p.Child("weight"), r.Weight)...)
		errs = append(errs, validateStrategy(p, r)...)
		if c := r.MaxRequestedPercent; c != nil && (*c < 1 || *c > config.MaxUtilization) {
			errs = append(errs, field.Invalid(p.Child("maxRequestedPercent"), *c,
				fmt.Sprintf("must be in the range [1, %d]", config.MaxUtilization)))
		}
	}
	if sr := args.ScarceResources; sr != nil {
		errs = append(errs, validateScarce(path.Child("scarceResources"), sr)...)
	}
	if fit := args.Fit; fit != nil {
		fp := path.Child("fit")
		errs = append(errs, validateWeight(fp.Child("weight"), fit.Weight)...)
		if !slices.Contains(config.FitStrategies, fit.Strategy) {
			errs = append(errs, field.NotSupported(fp.Child("strategy"), fit.Strategy, config.FitStrategies))
		}
	}
	if g := args.GPUSharing; g != nil {
		errs = append(errs, validateGPUSharing(path.Child("gpuSharing"), g)...)
	}
	if f := args.Fragmentation; f != nil && f.Enabled && (args.GPUSharing == nil || !args.GPUSharing.Enabled) {
		errs = append(errs, field.Invalid(path.Child("fragmentation", "enabled"), true,
			"the fragmentation score reads the GPU device accounting: set gpuSharing.enabled to true, or this to false"))
	}
	return errs.ToAggregate()
}

// validateGPUSharing checks the device resource and the keys: annotation
// keys and the model label are qualified names, as the API server requires
// of any key it stores.
func validateGPUSharing(p *field.Path, g *config.GPUSharingPolicy) field.ErrorList {
	errs := validateResourceName(p.Child("resource"), g.Resource)
	if g.Resource != "" && !v1helper.IsExtendedResourceName(v1.ResourceName(g.Resource)) {
		errs = append(errs, field.Invalid(p.Child("resource"), g.Resource, "must be an extended resource (a domain-prefixed name such as nvidia.com/gpu)"))
	}
	var keys fieldcheck.Unique
	for _, k := range []struct {
		name, value string
	}{{"shareAnnotation", g.ShareAnnotation}, {"deviceAnnotation", g.DeviceAnnotation}, {"modelsAnnotation", g.ModelsAnnotation}, {"modelLabel", g.ModelLabel}} {
		kp := p.Child(k.name)
		errs = append(errs, fieldcheck.Name(kp, k.value, "a key is needed", utilvalidation.IsQualifiedName)...)
		// The model label is a node's, the others are pods' annotations.
		if k.value != "" && k.name != "modelLabel" {
			errs = append(errs, keys.Check(kp, k.value)...)
		}
	}
	return errs
}

// validateScarce accepts only extended resources: steering every pod that
// requests no cpu away from nodes with cpu would steer it away from all nodes.
func validateScarce(p *field.Path, sr *config.ScarceResourcePolicy) field.ErrorList {
	var errs field.ErrorList
	var seen fieldcheck.Unique
	for i, name := range sr.Resources {
		rp := p.Child("resources").Index(i)
		errs = append(errs, validateResourceName(rp, name)...)
		if !v1helper.IsExtendedResourceName(v1.ResourceName(name)) {
			errs = append(errs, field.Invalid(rp, name, "must be an extended resource (a domain-prefixed name such as nvidia.com/gpu)"))
		}
		errs = append(errs, seen.Check(rp, name)...)
	}
	if len(sr.Resources) > 0 {
		errs = append(errs, validateWeight(p.Child("weight"), sr.Weight)...)
	}
	return errs
}

func validateResourceName(p *field.Path, name string) field.ErrorList {
	return fieldcheck.Name(p, name, "resource name is empty", utilvalidation.IsQualifiedName)
}

func validateWeight(p *field.Path, w int64) field.ErrorList {
	if w < config.MinResourceWeight || w > config.MaxResourceWeight {
		return field.ErrorList{field.Invalid(p, w,
			fmt.Sprintf("must be in the range [%d, %d]", config.MinResourceWeight, config.MaxResourceWeight))}
	}
	return nil
}

func validateStrategy(p *field.Path, r config.ResourcePolicy) field.ErrorList {
	strategies := make([]string, len(config.ScoringStrategies))
	for i, s := range config.ScoringStrategies {
		strategies[i] = string(s)
	}
	if !sets.New(strategies...).Has(string(r.Strategy)) {
		return field.ErrorList{field.NotSupported(p.Child("strategy"), r.Strategy, strategies)}
	}
	shapePath := p.Child("shape")
	if r.Strategy != config.RequestedToCapacityRatio {
		if len(r.Shape) > 0 {
			return field.ErrorList{field.Forbidden(shapePath,
				fmt.Sprintf("a shape is only used by strategy %s, not %s", config.RequestedToCapacityRatio, r.Strategy))}
		}
		return nil
	}
	return validateShape(shapePath, r.Shape)
}

// validateShape requires a non-empty shape with utilisations strictly
// increasing within [0, 100] and scores within [0, 10]: interpolation
// between points needs a function of utilisation, not a relation.
func validateShape(p *field.Path, shape []config.UtilizationShapePoint) field.ErrorList {
	if len(shape) == 0 {
		return field.ErrorList{field.Required(p, fmt.Sprintf("strategy %s needs at least one point", config.RequestedToCapacityRatio))}
	}
	var errs field.ErrorList
	for i, pt := range shape {
		if pt.Utilization < 0 || pt.Utilization > config.MaxUtilization {
			errs = append(errs, field.Invalid(p.Index(i).Child("utilization"), pt.Utilization,
				fmt.Sprintf("must be in the range [0, %d]", config.MaxUtilization)))
		} else if i > 0 && pt.Utilization <= shape[i-1].Utilization {
			errs = append(errs, field.Invalid(p.Index(i).Child("utilization"), pt.Utilization,
				fmt.Sprintf("must be greater than the previous point's %d", shape[i-1].Utilization)))
		}
		if pt.Score < 0 || pt.Score > config.MaxShapeScore {
			errs = append(errs, field.Invalid(p.Index(i).Child("score"), pt.Score,
				fmt.Sprintf("must be in the range [0, %d]", config.MaxShapeScore)))
		}
	}
	return errs
}

// ValidateZoneSpreadArgs checks the arguments of the ZoneSpread plugin.
func ValidateZoneSpreadArgs(path *field.Path, args *config.ZoneSpreadArgs) error {
	var errs field.ErrorList
	cPath := path.Child("constraints")
	if len(args.Constraints) == 0 {
		errs = append(errs, field.Required(cPath, "at least one topology key to spread over"))
	}
	if len(args.Constraints) > config.MaxZoneSpreadKeys {
		errs = append(errs, field.TooMany(cPath, len(args.Constraints), config.MaxZoneSpreadKeys))
	}
	var seen fieldcheck.Unique
	for i, c := range args.Constraints {
		p := cPath.Index(i)
		keyPath := p.Child("topologyKey")
		errs = append(errs, fieldcheck.Name(keyPath, c.TopologyKey, "a node label key", utilvalidation.IsQualifiedName)...)
		errs = append(errs, seen.Check(keyPath, c.TopologyKey)...)
		if c.MaxSkew != nil && *c.MaxSkew < 1 {
			errs = append(errs, field.Invalid(p.Child("maxSkew"), *c.MaxSkew, "must be at least 1 (leave it out for a key that is only scored)"))
		}
	}
	return errs.ToAggregate()
}

// ValidateStatefulSetAwareArgs checks the arguments of the StatefulSetAware plugin.
func ValidateStatefulSetAwareArgs(path *field.Path, args *config.StatefulSetAwareArgs) error {
	var errs field.ErrorList
	errs = append(errs, fieldcheck.Name(path.Child("topologyKey"), args.TopologyKey, "a node label key", utilvalidation.IsQualifiedName)...)
	if !slices.Contains(config.QuorumPolicies, args.WhenQuorumAtRisk) {
		errs = append(errs, field.NotSupported(path.Child("whenQuorumAtRisk"), args.WhenQuorumAtRisk, config.QuorumPolicies))
	}
	if args.PrimarySelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(args.PrimarySelector,
			metav1validation.LabelSelectorValidationOptions{}, path.Child("primarySelector"))...)
	}
	return errs.ToAggregate()
}

// MaxNextBestNodes bounds ExplainArgs.NextBestNodes, and with it the size
// of an explanation.
const MaxNextBestNodes = 10

// ValidateExplainArgs checks the arguments of the Explain plugin.
func ValidateExplainArgs(path *field.Path, args *config.ExplainArgs) error {
	var errs field.ErrorList
	if p := args.SamplePercent; math.IsNaN(p) || p < 0 || p > 100 {
		errs = append(errs, field.Invalid(path.Child("samplePercent"), p, "must be between 0 and 100"))
	}
	if n := args.NextBestNodes; n < 0 || n > MaxNextBestNodes {
		errs = append(errs, field.Invalid(path.Child("nextBestNodes"), n, fmt.Sprintf("must be between 0 and %d", MaxNextBestNodes)))
	}
	return errs.ToAggregate()
}
