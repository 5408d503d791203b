// Package get implements `meshfedctl get TYPE [NAME...]`: the hub's global services, member
// clusters and segments as a table (-o wide for more columns) or as API objects (-o yaml, json,
// name, jsonpath=…), kubectl style.
package get
