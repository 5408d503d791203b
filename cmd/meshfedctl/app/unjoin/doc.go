// Package unjoin implements `meshfedctl unjoin`: it removes what join created, keeping what
// another join of the same cluster still uses.
package unjoin
