// Package app assembles a waypoint from its options: the federation store client, the
// waypoint's endpoint table and listeners, the HBONE credentials (reloaded from files) and the
// admin server.
//
// Every option is a flag whose default comes from an environment variable, so a Deployment can
// fill them from the downward API and the cluster's configuration.
package app
