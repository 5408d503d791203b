// Package status implements `meshfedctl status`: one line per member cluster, as the hub last
// saw it — the table of `meshfedctl get memberclusters`. It reads only the MemberCluster
// objects, so it works with read access to the hub.
package status
