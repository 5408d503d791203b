package merge

import (
	"cmp"
	"slices"
)

// ProblemReason says what was wrong with a piece of input the merge could not use as given.
type ProblemReason string

// The problems the merge reports. Those for which DropsExport is true are reported once per
// ignored export, so that every export is either merged or accounted for here.
const (
	// ProblemUnknownCluster: an export names a cluster that is not in Input.Clusters.
	ProblemUnknownCluster ProblemReason = "UnknownCluster"
	// ProblemInvalidScope: an export's scope is not one of model.Scopes.
	ProblemInvalidScope ProblemReason = "InvalidScope"
	// ProblemInvalidExport: an export has no namespace or no name.
	ProblemInvalidExport ProblemReason = "InvalidExport"
	// ProblemDuplicateExport: a cluster exports the same namespace/name more than once; the
	// oldest copy is merged and each other copy is reported.
	ProblemDuplicateExport ProblemReason = "DuplicateExport"
	// ProblemInvalidCluster: a cluster has no name and is ignored.
	ProblemInvalidCluster ProblemReason = "InvalidCluster"
	// ProblemDuplicateCluster: a cluster name is listed more than once.
	ProblemDuplicateCluster ProblemReason = "DuplicateCluster"
	// ProblemDuplicateSegment: a segment name is listed more than once.
	ProblemDuplicateSegment ProblemReason = "DuplicateSegment"
	// ProblemForeignEndpoint: an export's endpoints claim another cluster in their locality;
	// the merge rewrites the locality to the exporting cluster.
	ProblemForeignEndpoint ProblemReason = "ForeignEndpoint"
)

// DropsExport reports whether a problem of this reason means one export was ignored.
func (r ProblemReason) DropsExport() bool {
	switch r {
	case ProblemUnknownCluster, ProblemInvalidScope, ProblemInvalidExport, ProblemDuplicateExport:
		return true
	default:
		return false
	}
}

// InputProblem is one piece of input the merge ignored or corrected, for the hub to log (Warn) and
// surface on the objects concerned. Fields that do not apply are empty.
type InputProblem struct {
	Reason    ProblemReason `json:"reason"`
	Cluster   string        `json:"cluster,omitempty"`
	Segment   string        `json:"segment,omitempty"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name,omitempty"`
	Message   string        `json:"message"`
}

// compareProblems orders problems by service, then cluster, segment, reason and message.
func compareProblems(a, b InputProblem) int {
	return cmp.Or(
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Cluster, b.Cluster),
		cmp.Compare(a.Segment, b.Segment),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Message, b.Message),
	)
}

// sortProblems sorts problems in place and returns them.
func sortProblems(ps []InputProblem) []InputProblem {
	slices.SortFunc(ps, compareProblems)
	return ps
}
