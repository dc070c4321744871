package statefulsetaware

import (
	v1 "k8s.io/api/core/v1"
)

// volumeZone returns the zone of the first zonal PersistentVolume one of
// the pod's claims is bound to, or "". An unbound claim (WaitForFirstConsumer)
// has no zone yet: the ordinal rule then picks one and the volume is
// provisioned there.
func (pl *StatefulSetAware) volumeZone(pod *v1.Pod) string {
	if pl.pvcs == nil || pl.pvs == nil {
		return ""
	}
	for _, vol := range pod.Spec.Volumes {
		if vol.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := pl.pvcs.PersistentVolumeClaims(pod.Namespace).Get(vol.PersistentVolumeClaim.ClaimName)
		if err != nil || pvc.Spec.VolumeName == "" {
			continue
		}
		pv, err := pl.pvs.Get(pvc.Spec.VolumeName)
		if err != nil {
			continue
		}
		if z := pvZone(pv, pl.key); z != "" {
			return z
		}
	}
	return ""
}

// pvZone reads a volume's zone from its required node affinity (a single
// value for the key), or from the older zone label.
func pvZone(pv *v1.PersistentVolume, key string) string {
	if na := pv.Spec.NodeAffinity; na != nil && na.Required != nil {
		for _, term := range na.Required.NodeSelectorTerms {
			for _, expr := range term.MatchExpressions {
				if expr.Key == key && expr.Operator == v1.NodeSelectorOpIn && len(expr.Values) == 1 {
					return expr.Values[0]
				}
			}
		}
	}
	return pv.Labels[key]
}
