package shadowproxy

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics registers the proxy's and its log sink's counters and gauges (srctl_shadow_*)
// on reg. They read the live counters at scrape time, so nothing is copied per command.
func RegisterMetrics(reg prometheus.Registerer, p *Proxy, sink *LogSink) {
	st := p.Stats()
	counter := func(name, help string, v func() int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "srctl_shadow", Name: name, Help: help},
			func() float64 { return float64(v()) }))
	}
	counter("connections_total", "client connections accepted", st.ConnectionsTotal.Load)
	counter("commands_total", "client commands relayed to the source", st.Commands.Load)
	counter("source_errors_total", "server errors answered by the source", st.PrimaryErrors.Load)
	counter("mirror_executed_total", "copies executed on the mirror", st.ShadowExecuted.Load)
	counter("mirror_errors_total", "server errors answered by the mirror", st.ShadowErrors.Load)
	counter("mirror_failures_total", "transport failures and timeouts on the mirror", st.ShadowFailures.Load)
	counter("filtered_total", "commands not mirrored by policy", st.Filtered.Load)
	counter("shadow_login_failures_total", "shadow sessions refused", st.ShadowLoginFailure.Load)
	counter("cutovers_total", "source switches", st.Cutovers.Load)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "srctl_shadow", Name: "shadow_user_can_write",
		Help: "1 when the shadow user's grants allow writes (the statement classifier is then all that keeps writes off the shadow), 0 when they do not, -1 unknown"},
		func() float64 { return float64(st.ShadowUserCanWrite.Load()) }))
	counter("handshakes_refused_total", "connections refused before login: too many logging in at once (--max-handshakes), or an oversized packet", st.HandshakesRefused.Load)
	counter("opaque_sessions_total", "connections relayed unread (and unmirrored) after a command the proxy cannot follow", st.OpaqueSessions.Load)
	counter("log_rows_written_total", "log rows stored", sink.Written.Load)
	counter("log_rows_lost_total", "log rows dropped because the log store could not keep up", sink.Dropped.Load)
	counter("log_write_errors_total", "failed log writes (retried)", sink.WriteErrors.Load)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "srctl_shadow", Name: "connections_active", Help: "open client connections"},
		func() float64 { return float64(st.ConnectionsActive.Load()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "srctl_shadow", Name: "source_is_shadow", Help: "1 when clients get the shadow's answers"},
		func() float64 { return float64(p.Source()) }))
	p.live.register(reg, st)
}
