// Package describe implements `meshfedctl describe globalservice`: everything the hub knows of
// one global service, its endpoints from the federation store, and — seen from one cluster and
// zone — the priority tiers and load split a waypoint there would use.
package describe
