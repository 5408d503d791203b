// Package output is meshfedctl's -o flag on k8s.io/cli-runtime's printers, as kubectl's: the
// default table and wide are the command's own; json, yaml, name, jsonpath=… and the template
// formats print the API objects with apiVersion and kind (several as a v1 List), without
// managedFields unless --show-managed-fields.
package output
