// Package topology holds what Placer's topology-aware plugins share: a
// tracker of where each workload's pods are, fed incrementally from informer
// events and Reserve/Unreserve; an index of nodes by topology domain; and the
// check of whether a domain can take a pod at all.
package topology
