package fedouble

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Workload drives queries through a set of FEs at a steady rate, as clients would.
type Workload struct {
	FEs             []*FE
	QPS             float64       // queries started per second on each FE
	MaxRuntime      time.Duration // query run time is uniform in [1ms, MaxRuntime]; default 50ms
	FailRate        float64       // fraction ending FAILED
	ProfileRate     float64       // fraction that get a profile (enable_profile); default 1
	ProfileBytes    int           // approximate profile size; default 4 KiB
	MaxProfileBytes int           // when above ProfileBytes, sizes are uniform in [ProfileBytes, MaxProfileBytes]
	MinProfileDelay time.Duration // async profile build delay, uniform in [MinProfileDelay, MaxProfileDelay]
	MaxProfileDelay time.Duration
	// FailedNoProfile is the fraction of FAILED queries that fail in analysis, before any
	// fragment runs: StarRocks builds no profile for them.
	FailedNoProfile float64
	Seed            uint64
}

var routes = []string{"/api/orders/:id", "/api/users/:id/risk", "/api/exposure", "/api/flows/search"}

// SQL returns the n-th generated statement: a handful of shapes with varying literals and a
// sqlcommenter tag whose traceparent makes every text unique, as in production.
func SQL(rng *rand.Rand) string {
	route := routes[rng.IntN(len(routes))]
	trace := fmt.Sprintf("00-%016x%016x-%016x-01", rng.Uint64(), rng.Uint64(), rng.Uint64())
	switch rng.IntN(3) {
	case 0:
		return fmt.Sprintf("SELECT id, total FROM orders WHERE customer_id = %d AND status IN ('paid','open') /*route='%s',traceparent='%s'*/", rng.IntN(100000), urlEscape(route), trace)
	case 1:
		return fmt.Sprintf("SELECT address, SUM(amount) AS s FROM transfers t JOIN entities e ON t.entity_id = e.id WHERE e.risk > %d.%d GROUP BY address ORDER BY s DESC LIMIT 50 /*route='%s',traceparent='%s'*/", rng.IntN(9), rng.IntN(99), urlEscape(route), trace)
	default:
		return fmt.Sprintf("/*application:Risk,controller:exposure,action:show*/ SELECT * FROM exposure WHERE entity_id IN (%d, %d, %d)", rng.IntN(1e6), rng.IntN(1e6), rng.IntN(1e6))
	}
}

func urlEscape(s string) string {
	out := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' || c == ':' {
			out = append(out, fmt.Sprintf("%%%02X", c)...)
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

type ending struct {
	at time.Time
	fe *FE
	id string
}

type endHeap []ending

func (h endHeap) Len() int           { return len(h) }
func (h endHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h endHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)        { *h = append(*h, x.(ending)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Run generates load until ctx is done, then ends every query it started, and returns how many
// queries it started.
func (w *Workload) Run(ctx context.Context) int {
	if w.MaxRuntime == 0 {
		w.MaxRuntime = 50 * time.Millisecond
	}
	if w.ProfileBytes == 0 {
		w.ProfileBytes = 4 << 10
	}
	rng := rand.New(rand.NewPCG(w.Seed, 7))
	const step = 10 * time.Millisecond
	t := time.NewTicker(step)
	defer t.Stop()
	var ends endHeap
	started := 0
	carry := make([]float64, len(w.FEs))
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			for ends.Len() > 0 {
				e := heap.Pop(&ends).(ending)
				e.fe.End(e.id)
			}
			return started
		case now := <-t.C:
			for ends.Len() > 0 && !ends[0].at.After(now) {
				e := heap.Pop(&ends).(ending)
				e.fe.End(e.id)
			}
			// Start as many queries as the rate owes since the last tick (ticks can be late).
			elapsed := now.Sub(start).Seconds()
			for i, fe := range w.FEs {
				owed := w.QPS*elapsed - carry[i]
				for ; owed >= 1; owed-- {
					carry[i]++
					q := w.query(rng)
					fe.Begin(q)
					started++
					heap.Push(&ends, ending{at: now.Add(time.Millisecond + time.Duration(rng.Int64N(int64(w.MaxRuntime)))), fe: fe, id: q.ID})
				}
			}
		}
	}
}

func (w *Workload) query(rng *rand.Rand) Query {
	q := Query{
		ID:           fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, 0x4000|rng.Uint32()&0x0fff, 0x8000|rng.Uint32()&0x3fff, rng.Uint64()&0xffffffffffff),
		SQL:          SQL(rng),
		Database:     "shop",
		User:         "app",
		HasProfile:   w.ProfileRate == 0 || rng.Float64() < w.ProfileRate,
		ProfileBytes: w.ProfileBytes,
		ScanRows:     rng.Int64N(1e7), ScanBytes: rng.Int64N(1e10),
		CPUCostNs: rng.Int64N(1e9), MemCostBytes: rng.Int64N(1e9),
	}
	if w.MaxProfileBytes > w.ProfileBytes {
		q.ProfileBytes += rng.IntN(w.MaxProfileBytes - w.ProfileBytes)
	}
	q.ProfileDelay = w.MinProfileDelay
	if w.MaxProfileDelay > w.MinProfileDelay {
		q.ProfileDelay += time.Duration(rng.Int64N(int64(w.MaxProfileDelay - w.MinProfileDelay)))
	}
	if w.FailRate > 0 && rng.Float64() < w.FailRate {
		q.Failed = true
		q.ErrorMessage = "Getting analyzing error. Detail message: Unknown table 'shop.orderz'."
		if rng.Float64() < w.FailedNoProfile {
			q.HasProfile = false
		}
	}
	return q
}
