package shadowproxy

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/srctl/srctl/lakehouse"
)

// liveMetrics count what the log rows say as they are written, so that a dashboard and the
// logs never disagree: latency by target, copies not executed by reason, server errors by
// target and code. Result differences are counted where both answers meet (mirror.exec).
type liveMetrics struct {
	latency       *prometheus.HistogramVec // target
	latencyBy     [2]prometheus.Observer   // primary, shadow: resolved once, off the label lookup
	dropped       *prometheus.CounterVec   // reason
	errors        *prometheus.CounterVec   // target, code
	resultsCmp    atomic.Int64             // copies whose result set was compared with the source's
	resultsDiffer atomic.Int64             // ... and differed (as multisets of rows)

	mu    sync.Mutex
	codes map[int]bool // error codes given a series of their own (at most maxErrorCodes)
}

// maxErrorCodes bounds the error-code label: codes come from servers (and so, through SQL, from
// clients); after this many distinct ones the rest count as "other".
const maxErrorCodes = 64

func newLiveMetrics() *liveMetrics {
	m := &liveMetrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "srctl_shadow", Name: "query_duration_seconds",
			Help:    "time from sending a command to its last answer packet, by target (the primary's as the client saw it through the proxy, the shadow's copy on its own session)",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"target"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "srctl_shadow", Name: "mirror_dropped_total",
			Help: "copies not executed on the mirror, by reason (queue_full, queue_expired, shadow_unavailable, shadow_login_failed, too_large, statement_not_prepared, mirror_unavailable, proxy_shutdown)"}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "srctl_shadow", Name: "server_errors_total",
			Help: "commands that failed, by target and MySQL error code (transport: the connection failed or timed out; other: past the first 64 codes)"}, []string{"target", "code"}),
		codes: map[int]bool{},
	}
	m.latencyBy[0], m.latencyBy[1] = m.latency.WithLabelValues("primary"), m.latency.WithLabelValues("shadow")
	for _, r := range []string{DropQueueFull, DropUnavailable, DropLoginFailed, DropTooLarge, DropStmtNotPrepared, DropMirrorLost, DropConnectionClosed, DropExpired} {
		m.dropped.WithLabelValues(r) // every reason reads 0 from the start: rate() needs a series
	}
	return m
}

// observe counts one log row.
func (m *liveMetrics) observe(rec *lakehouse.ProxyLogRecord) {
	switch {
	case rec.Filtered:
		return
	case rec.Dropped:
		m.dropped.WithLabelValues(rec.DropReason).Inc()
		return
	}
	target := 0
	if rec.Target == "shadow" {
		target = 1
	}
	m.latencyBy[target].Observe(rec.DurationMS / 1000)
	if rec.Success {
		return
	}
	code := "transport"
	if rec.ErrorCode != nil {
		code = m.codeLabel(*rec.ErrorCode)
	}
	m.errors.WithLabelValues(rec.Target, code).Inc()
}

func (m *liveMetrics) codeLabel(code int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.codes[code] {
		if len(m.codes) >= maxErrorCodes {
			return "other"
		}
		m.codes[code] = true
	}
	return strconv.Itoa(code)
}

// compareResults counts a copy's answer against the source's: both set hashes present.
func (m *liveMetrics) compareResults(source, mirror string) {
	if source == "" || mirror == "" {
		return
	}
	m.resultsCmp.Add(1)
	if source != mirror {
		m.resultsDiffer.Add(1)
	}
}

// observingSink counts every row on its way to the log.
type observingSink struct {
	next RowSink
	m    *liveMetrics
}

func (o observingSink) Write(rec *lakehouse.ProxyLogRecord) {
	o.m.observe(rec) // before: the row is the next sink's once written
	o.next.Write(rec)
}

func (m *liveMetrics) register(reg prometheus.Registerer, st *Stats) {
	reg.MustRegister(m.latency, m.dropped, m.errors)
	counter := func(name, help string, v func() int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "srctl_shadow", Name: name, Help: help},
			func() float64 { return float64(v()) }))
	}
	counter("results_compared_total", "copies whose rows were compared with the source's (both answered with a result set)", m.resultsCmp.Load)
	counter("result_differences_total", "copies that returned another multiset of rows than the source", m.resultsDiffer.Load)
	gauge := func(name, help string, v func() int64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "srctl_shadow", Name: name, Help: help},
			func() float64 { return float64(v()) }))
	}
	gauge("mirror_queue_commands", "copies waiting in the connections' shadow queues", st.QueuedCommands.Load)
	gauge("mirror_queue_bytes", "payload bytes of the copies waiting in the shadow queues", st.QueuedBytes.Load)
}
