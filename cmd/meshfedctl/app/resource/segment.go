package resource

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// Segments group member clusters under one DNS domain.
var Segments = &Kind{
	Plural: "segments", Singular: "segment", ShortNames: []string{"seg"},
	Noun:      "segment",
	newObject: func() client.Object { return &meshfedv1.Segment{} },
	newList:   func() client.ObjectList { return &meshfedv1.SegmentList{} },
	columns: []Column{
		{Header: "NAME", Cell: seg(func(s *meshfedv1.Segment) string { return s.Name })},
		{Header: "DOMAIN", Cell: seg(SegmentDomain)},
		{Header: "CLUSTERS", Cell: seg(func(s *meshfedv1.Segment) string { return fmt.Sprint(len(s.Status.Clusters)) })},
		{Header: "MEMBERS", Wide: true, Cell: seg(func(s *meshfedv1.Segment) string { return strings.Join(s.Status.Clusters, ",") })},
		{Header: "ACCEPTED", Wide: true, Cell: seg(func(s *meshfedv1.Segment) string {
			if c := meta.FindStatusCondition(s.Status.Conditions, meshfedv1.SegmentConditionAccepted); c != nil {
				return string(c.Status)
			}
			return "Unknown"
		})},
		age,
	},
}

func seg(cell func(*meshfedv1.Segment) string) func(client.Object, time.Time) string {
	return func(obj client.Object, _ time.Time) string { return cell(obj.(*meshfedv1.Segment)) }
}

// SegmentDomain is the segment's domain, the default one when it names none.
func SegmentDomain(s *meshfedv1.Segment) string {
	return cmp.Or(s.Spec.Domain, wellknown.DefaultSegmentDomain)
}
