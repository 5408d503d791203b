// Package unjoin implements `meshfedctl unjoin`: it removes everything join created.
package unjoin
