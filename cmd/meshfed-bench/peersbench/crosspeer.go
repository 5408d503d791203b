package peersbench

import (
	"path/filepath"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
)

// peerExitIP is the address of the TLS peers' backend sides; their client sides listen on
// peerIP, as the other peers do.
const peerExitIP = "127.0.0.51"

// crossPeerSide is one process of a TLS peer: its name (of its log and directory), its
// configuration, and the function writing that.
type crossPeerSide struct {
	name   string
	c      peerConfig
	config func(peerConfig, tlsFiles) (string, error)
}

// crossPeerSides are TLS peer s's backend side B, on s.exit, then its client side A, on
// s.addr, sending to B; each with its own directory under dir.
func crossPeerSides(s subject, backends []benchmesh.Addr, dir string) []crossPeerSide {
	exit, entry := haproxyTLSExitConfig, haproxyTLSEntryConfig
	if s.program() == "nginx" {
		exit, entry = nginxTLSExitConfig, nginxTLSEntryConfig
	}
	exitName, entryName := s.fileName()+"-b", s.fileName()+"-a"
	return []crossPeerSide{
		{exitName, peerConfig{Listen: s.exit, Backends: backends, Workers: s.workers, Dir: filepath.Join(dir, exitName)}, exit},
		{entryName, peerConfig{Listen: s.addr, Backends: []benchmesh.Addr{s.exit}, Workers: s.workers, Dir: filepath.Join(dir, entryName)}, entry},
	}
}

// startCrossPeer picks the address of TLS peer s's backend side, writes the configurations
// of its two processes and starts the backend side, then the client side.
func (e *env) startCrossPeer(s *subject, peers map[string]string) error {
	port, err := benchmesh.FreePort(peerExitIP)
	if err != nil {
		return err
	}
	s.exit = benchmesh.Addr{IP: peerExitIP, Port: port}
	for _, side := range crossPeerSides(*s, e.backends, e.dir) {
		text, err := side.config(side.c, e.peerTLS)
		if err != nil {
			return err
		}
		bin, args, err := peerProgram(s.program(), side.c.Dir, side.name, text, peers)
		if err != nil {
			return err
		}
		if err := e.spawn(*s, side.name, bin, args, nil); err != nil {
			return err
		}
	}
	return nil
}
