package collector

import "github.com/prometheus/client_golang/prometheus"

// metrics are registered on the injected Registerer, never the global one. Labels carry FE
// host:port and fixed reasons only: never a user name or password.
type metrics struct {
	polls           *prometheus.CounterVec // fe, result=ok|error
	entries         *prometheus.CounterVec // fe, state
	duplicates      *prometheus.CounterVec // fe
	malformed       *prometheus.CounterVec // fe
	feErrors        *prometheus.CounterVec // fe, kind
	recordsWritten  prometheus.Counter
	bytesWritten    prometheus.Counter
	objectsWritten  prometheus.Counter
	profiles        *prometheus.CounterVec // fe, status=ok|not_found|evicted|error|unauthorized|too_large
	profileFetches  *prometheus.CounterVec // fe, result
	journaled       *prometheus.CounterVec // fe, kind=detail|record
	feWritten       *prometheus.CounterVec // fe
	journalSyncs    prometheus.Histogram
	journalBytes    prometheus.Gauge
	journalCarried  prometheus.Counter
	profileLifetime *prometheus.GaugeVec // fe
	fetchLag        *prometheus.GaugeVec // fe
	flushSeconds    prometheus.Histogram
	flushRetries    prometheus.Counter
	flushFailures   prometheus.Counter
	bufferBytes     prometheus.Gauge
	pendingRecords  prometheus.Gauge
	cursorLag       *prometheus.GaugeVec // fe
	gaps            *prometheus.CounterVec
	clockJumps      *prometheus.CounterVec
	spills          prometheus.Counter
	spilledRecords  prometheus.Counter
	spillReplays    prometheus.Counter
	spillFiles      prometheus.Gauge
	pollPauses      prometheus.Counter
	fesActive       prometheus.Gauge
	checkpointFails prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "srctl", "collect"
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, labels)
	}
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	m := &metrics{
		polls:          cv("polls_total", "query_detail polls by FE and result.", "fe", "result"),
		entries:        cv("entries_seen_total", "query_detail entries seen, by FE and state.", "fe", "state"),
		duplicates:     cv("duplicates_dropped_total", "Terminal entries dropped because their query id was already collected.", "fe"),
		malformed:      cv("malformed_entries_total", "query_detail entries without a query id.", "fe"),
		feErrors:       cv("fe_errors_total", "Failed FE requests by kind (http_5xx, unauthorized, decode, transport, too_large, ...).", "fe", "kind"),
		recordsWritten: c("records_written_total", "Records durably written to the sink (spilled records count when replayed)."),
		bytesWritten:   c("bytes_written_total", "Bytes of JSONL written to the sink."),
		objectsWritten: c("objects_written_total", "Objects written to the sink."),
		profiles:       cv("profiles_total", "Records by FE and profile outcome: ok, or why it is missing (not_found, evicted, error, too_large, unauthorized).", "fe", "status"),
		profileFetches: cv("profile_fetches_total", "Profile HTTP fetches by FE and result (ok, not_found, error: 5xx and transport apart from 404s).", "fe", "result"),
		journaled:      cv("journaled_total", "Entries made durable in the local journal, by FE and kind (detail: polled, waiting for its profile; record: complete).", "fe", "kind"),
		feWritten:      cv("fe_records_written_total", "Records in the sink, by FE.", "fe"),
		journalSyncs: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "journal_sync_seconds",
			Help: "Time of one journal fsync (one per batch of appends).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		journalBytes:    g("journal_bytes", "Bytes of journal segments on disk (records not yet uploaded, fetches not yet done) and of spare segments (at most two, written over next)."),
		journalCarried:  c("journal_details_carried_total", "Details appended again at the journal's end because profile fetches outlasted the journal's hold bound: each costs a read and a write; a steady rate says fetches lag."),
		profileLifetime: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "profile_lifetime_seconds", Help: "Estimated time the FE keeps a profile: --fe-profiles-kept / queries finished per second."}, []string{"fe"}),
		fetchLag:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "fetch_lag_seconds", Help: "How late first profile attempts start after they are due (moving average)."}, []string{"fe"}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "flush_duration_seconds",
			Help: "Time to make one batch durable (sink or spill).", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		flushRetries:    c("flush_retries_total", "Sink writes retried."),
		flushFailures:   c("flush_failures_total", "Batches that could be neither written nor spilled (kept in memory and retried)."),
		bufferBytes:     g("buffer_bytes", "Bytes held in memory for records not yet durable."),
		pendingRecords:  g("pending_records", "Records waiting for a profile or a flush."),
		cursorLag:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "cursor_lag_seconds", Help: "Now minus the event time of the FE's durable cursor."}, []string{"fe"}),
		gaps:            cv("gaps_total", "Possible gaps: windows older than the FE's retention that were never polled (each also written as a GAP record).", "fe"),
		clockJumps:      cv("clock_jumps_total", "FE clock jumps detected (cursor ahead of the FE's clock); the cache is re-read.", "fe"),
		spills:          c("spills_total", "Batches spilled to the local write-ahead directory because the sink was down."),
		spilledRecords:  c("spilled_records_total", "Records spilled to the local write-ahead directory."),
		spillReplays:    c("spill_replays_total", "Spill files replayed into the sink."),
		spillFiles:      g("spill_files", "Spill files waiting to be replayed."),
		pollPauses:      c("poll_pauses_total", "Polls skipped because --max-buffered-bytes was reached."),
		fesActive:       g("fes", "FEs being polled."),
		checkpointFails: c("checkpoint_failures_total", "Cursor checkpoint writes that failed."),
	}
	reg.MustRegister(m.polls, m.entries, m.duplicates, m.malformed, m.feErrors, m.recordsWritten, m.bytesWritten,
		m.objectsWritten, m.profiles, m.profileFetches, m.flushSeconds, m.flushRetries, m.flushFailures,
		m.bufferBytes, m.pendingRecords, m.cursorLag, m.gaps, m.clockJumps, m.spills, m.spilledRecords,
		m.spillReplays, m.spillFiles, m.pollPauses, m.fesActive, m.checkpointFails,
		m.journaled, m.feWritten, m.journalSyncs, m.journalBytes, m.journalCarried, m.profileLifetime, m.fetchLag)
	return m
}

// RegisterMetrics registers the collector's metrics on reg, as New does: for tools that check
// dashboards and alerting rules against what srctl collect really exports.
func RegisterMetrics(reg prometheus.Registerer) { newMetrics(reg) }
