// Command tcprelay is the waypoint benchmark's reference hop: the least a user-space proxy
// process can do, accept a TCP connection, dial one fixed upstream and copy bytes both ways
// with io.Copy. `meshfed-bench waypoint` builds it and measures it as the path "relay", so
// that the waypoint's added latency and CPU can be read against what any extra process on
// the path costs on the same machine in the same run. It is not part of meshfed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// dialTimeout bounds the connect to the upstream.
const dialTimeout = 5 * time.Second

func main() {
	listen := flag.String("listen", "", "address to accept connections on, host:port")
	upstream := flag.String("upstream", "", "address every connection is relayed to, host:port")
	flag.Parse()
	if *listen == "" || *upstream == "" {
		fmt.Fprintln(os.Stderr, "tcprelay: --listen and --upstream are required")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcprelay:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() { <-sig; _ = l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintln(os.Stderr, "tcprelay:", err)
			}
			break
		}
		go relay(c.(*net.TCPConn), *upstream)
	}
	// Open connections end when the bench closes its clients; it stops this process after.
	os.Exit(0)
}

// relay copies c to a new connection to upstream and back, passing each side's FIN on.
func relay(c *net.TCPConn, upstream string) {
	defer c.Close()
	d, err := net.DialTimeout("tcp", upstream, dialTimeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcprelay:", err)
		return
	}
	u := d.(*net.TCPConn)
	defer u.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(u, c)
		_ = u.CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(c, u)
	_ = c.CloseWrite()
	<-done
}
