package dnsbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchstat"
)

// query is one question of the mix and what a correct answer looks like.
type query struct {
	name     string
	qtype    uint16
	negative bool // NXDOMAIN expected; otherwise NOERROR with at least one answer
	wire     []byte
}

// querySet is the mix both servers answer, for n services: per service, four A queries for its
// hostname, three for its clusterset name, two SRV queries for its named port and one name that
// does not exist (NXDOMAIN). Every query carries EDNS0 with a 1232-byte buffer, as CoreDNS's
// forward plugin and modern stub resolvers send.
func querySet(n int) ([]query, error) {
	var qs []query
	add := func(name string, qtype uint16, negative bool, times int) {
		for range times {
			qs = append(qs, query{name: name, qtype: qtype, negative: negative})
		}
	}
	for i := range n {
		base := nameOf(i) + "." + namespaceOf(i)
		add(base+".mesh.internal.", dns.TypeA, false, 4)
		add(base+".svc.clusterset.local.", dns.TypeA, false, 3)
		add("_http._tcp."+base+".svc.clusterset.local.", dns.TypeSRV, false, 2)
		add("nope-"+base+".mesh.internal.", dns.TypeA, true, 1)
	}
	for i := range qs {
		m := new(dns.Msg)
		m.SetQuestion(qs[i].name, qs[i].qtype)
		m.RecursionDesired = false
		m.SetEdns0(1232, false)
		b, err := m.Pack()
		if err != nil {
			return nil, err
		}
		qs[i].wire = b
	}
	return qs, nil
}

// answers reports whether addr answers q with NOERROR and at least one record.
func answers(addr string, q query) bool {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	resp, err := dns.Exchange(m, addr)
	return err == nil && resp.Rcode == dns.RcodeSuccess && len(resp.Answer) > 0
}

// sameAnswers checks that both servers give the same rcode and the same answer records to
// every query of sample: the comparison is only fair if they serve the same names.
func sameAnswers(a, b *server, sample []query) error {
	c := &dns.Client{Timeout: 2 * time.Second}
	render := func(addr string, q query) (string, error) {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		resp, _, err := c.Exchange(m, addr)
		if err != nil {
			return "", err
		}
		var rrs []string
		for _, rr := range resp.Answer {
			rrs = append(rrs, rr.String())
		}
		slices.Sort(rrs)
		return fmt.Sprint(dns.RcodeToString[resp.Rcode], rrs), nil
	}
	for _, q := range sample {
		ra, err := render(a.addr, q)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", a.name, q.name, err)
		}
		rb, err := render(b.addr, q)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", b.name, q.name, err)
		}
		if ra != rb {
			return fmt.Errorf("%s %s: %s answers %s, %s answers %s", q.name, dns.TypeToString[q.qtype], a.name, ra, b.name, rb)
		}
	}
	return nil
}

// phase is what one load phase measured.
type phase struct {
	Queries, Errors int64
	Elapsed         time.Duration
	P50, P99        time.Duration
	FirstError      error
}

// QPS is the answered queries per second.
func (p phase) QPS() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Queries) / p.Elapsed.Seconds()
}

// queryTimeout is how long a client waits for an answer before counting an error.
const queryTimeout = time.Second

// closedLoop runs conc clients against addr for d, each on its own UDP socket with one query in
// flight, picking queries at random from qs; it checks every answer's ID, rcode and answer count.
func closedLoop(ctx context.Context, addr string, qs []query, conc int, d time.Duration, seed uint64) (phase, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return phase{}, err
	}
	type result struct {
		lat    []time.Duration
		errors int64
		first  error
	}
	results := make([]result, conc)
	end := time.Now().Add(d)
	began := time.Now()
	var wg sync.WaitGroup
	var dialErr error
	var mu sync.Mutex
	for c := range conc {
		conn, err := net.DialUDP("udp", nil, ua)
		if err != nil {
			mu.Lock()
			dialErr = err
			mu.Unlock()
			break
		}
		wg.Go(func() {
			defer conn.Close()
			r := &results[c]
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			pkt := make([]byte, 512)
			buf := make([]byte, 4096)
			for ctx.Err() == nil && time.Now().Before(end) {
				q := &qs[rng.IntN(len(qs))]
				pkt = append(pkt[:0], q.wire...)
				id := uint16(rng.Uint32())
				pkt[0], pkt[1] = byte(id>>8), byte(id)
				start := time.Now()
				if err := exchangeRaw(conn, pkt, buf, id, q, start); err != nil {
					r.errors++
					if r.first == nil {
						r.first = err
					}
					continue
				}
				r.lat = append(r.lat, time.Since(start))
			}
		})
	}
	wg.Wait()
	if dialErr != nil {
		return phase{}, dialErr
	}
	p := phase{Elapsed: time.Since(began)}
	var lat []time.Duration
	for _, r := range results {
		lat = append(lat, r.lat...)
		p.Errors += r.errors
		if p.FirstError == nil {
			p.FirstError = r.first
		}
	}
	p.Queries = int64(len(lat))
	slices.Sort(lat)
	p.P50, p.P99 = benchstat.Percentile(lat, 50), benchstat.Percentile(lat, 99)
	return p, nil
}

var errWrongAnswer = errors.New("wrong answer")

// exchangeRaw sends pkt and reads until the answer with id arrives (older, late answers are
// skipped) or the timeout passes, then checks it against q.
func exchangeRaw(conn *net.UDPConn, pkt, buf []byte, id uint16, q *query, start time.Time) error {
	if _, err := conn.Write(pkt); err != nil {
		return err
	}
	if err := conn.SetReadDeadline(start.Add(queryTimeout)); err != nil {
		return err
	}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		if n < 12 || uint16(buf[0])<<8|uint16(buf[1]) != id {
			continue
		}
		rcode := int(buf[3] & 0x0F)
		ancount := int(buf[6])<<8 | int(buf[7])
		switch {
		case buf[2]&0x80 == 0, buf[2]&0x02 != 0: // not a response, or truncated
			return fmt.Errorf("%w: flags %#x for %s", errWrongAnswer, buf[2], q.name)
		case q.negative && rcode != dns.RcodeNameError, !q.negative && (rcode != dns.RcodeSuccess || ancount == 0):
			return fmt.Errorf("%w: %s with %d answers for %s %s", errWrongAnswer, dns.RcodeToString[rcode], ancount, q.name, dns.TypeToString[q.qtype])
		}
		return nil
	}
}
