// Package join implements `meshfedctl join`: it joins a member cluster to the hub.
package join
