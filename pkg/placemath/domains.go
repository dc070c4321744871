package placemath

import "math"

// Quorum is ⌊R/2⌋+1: the replicas of R that must survive for a set that
// votes (etcd, ZooKeeper, a database with consensus) to keep working.
func Quorum(replicas int) int { return replicas/2 + 1 }

// AllowedPerDomain is R − Quorum(R): the most replicas one failure domain
// (a zone or a node) may hold so that losing it still leaves a quorum.
func AllowedPerDomain(replicas int) int { return replicas - Quorum(replicas) }

// DomainsNeeded is how many domains R replicas need so that none holds
// more than AllowedPerDomain(R); 0 when no number will do (R ≤ 2: two
// replicas cannot survive one loss).
func DomainsNeeded(replicas int) int {
	a := AllowedPerDomain(replicas)
	if a == 0 {
		return 0
	}
	return (replicas + a - 1) / a
}

// Skew is the largest count minus the smallest over domains domains, of
// which counts lists some (a domain it lacks holds none). With domains at
// most len(counts), only the listed domains count; 0 for no counts.
func Skew(counts map[string]int, domains int) int {
	hi, lo := 0, math.MaxInt
	for _, n := range counts {
		hi, lo = max(hi, n), min(lo, n)
	}
	if lo == math.MaxInt {
		return 0
	}
	if len(counts) < domains {
		lo = 0
	}
	return hi - lo
}
