package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/shadowproxy"
)

const defaultShadowLogSink = "./srctl-lake/shadow-logs"

type shadowOptions struct {
	listen          string
	primary         string
	shadow          string
	shadowUser      string
	passwordFile    string
	logSink         string
	flushInterval   time.Duration
	logBatchRows    int
	endpointRules   string
	mirrorWrites    bool
	includeTypes    []string
	excludeTypes    []string
	includeRegex    string
	excludeRegex    string
	sampleRate      float64
	queueSize       int
	queueBytes      byteSize
	queueTotalBytes byteSize
	queueMaxWait    time.Duration
	shadowTimeout   time.Duration
	dialTimeout     time.Duration
	maxMirror       byteSize
	tlsCert         string
	tlsKey          string
	primaryTLS      backendTLSOptions
	shadowTLS       backendTLSOptions
	metricsAddr     string
	pprof           bool
	allowCutover    bool
	tokenFile       string
	maxHandshakes   int
	handshakeTime   time.Duration
	drainTimeout    time.Duration
	lake            icebergLogSink // iceberg:// log sinks; the shadow-only build has none
	store           objstore.Options
}

func newShadowCmd(g *globals) *cobra.Command {
	o := &shadowOptions{maxMirror: 16 << 20, queueBytes: 8 << 20, queueTotalBytes: 64 << 20}
	cmd := &cobra.Command{
		Use:   "shadow --primary HOST:PORT --shadow HOST:PORT [--listen ADDR] [--log-sink URI]",
		Short: "MySQL-protocol proxy: answers from the primary, a copy of the traffic to the shadow, both logged",
		Long: `shadow listens for MySQL-protocol clients (point them at --listen instead of the StarRocks FE).
Every command goes to the primary, and the client gets the primary's answer byte for byte. A copy
goes to the shadow through a bounded queue per connection, asynchronously: a slow, failing or
absent shadow never adds latency to the client; when the queue is full the copy is dropped,
counted, and its log row says so (dropped=true, drop_reason=queue_full).

The shadow session is opened with --shadow-user (password from SRCTL_SHADOW_PASSWORD or
--shadow-password-file, never a flag) and replays the client's session: the default database of
the handshake and of COM_INIT_DB/USE, SET statements, the character set and the client's
capability flags (multi-statements, multi-results, deprecate-EOF). Prepared statements are
prepared on both sides and their ids remapped. LOAD DATA LOCAL is never mirrored.

Mirroring policy: reads by default (SELECT, SHOW, DESCRIBE, EXPLAIN, WITH), writes only with
--mirror-writes, narrowed by --include-types/--exclude-types, --include-regex/--exclude-regex and
--sample-rate. Session state (SET, USE, transactions, prepares) is always mirrored. A command
not mirrored gets a shadow row with filtered=true and filter_reason (sql_operation, pattern,
sampling, load_data_local).

Logs: one JSON row per command per target, the keys of the existing shadow proxy (ts,
query_id, target, command, query_text, query_hash, duration_ms, bytes_sent, bytes_recv,
success, error, client_addr, filtered, filter_reason) with their meaning, plus srctl's:
error_code, sql_state (success=false on a server error), rows, affected_rows, result_hash
(order-sensitive), result_set_hash (order-insensitive), started_at, server_ms (first request
byte written to last answer byte read, the same on both sides), endpoint, fingerprint, dropped,
drop_reason, role, conn_id. Written every --log-flush-interval to --log-sink: a directory,
gs://bucket/prefix or s3://bucket/prefix (Hive-partitioned JSONL, what srctl diff reads), or
(not in the shadow-only build) an Iceberg table iceberg://CATALOG/NAMESPACE.TABLE.

Metrics port (--metrics-addr, loopback by default): /metrics, /healthz, /readyz, and /source: GET
shows whose answers clients get; POST /source?to=shadow makes the shadow the source of answers
and the primary the mirror, POST /source?to=primary switches back, each connection at its next
command boundary, without dropping connections. Switching to the shadow needs --allow-cutover
and a control token (SRCTL_CONTROL_TOKEN or --control-token-file), sent as
"Authorization: Bearer TOKEN"; with a token set, every switch needs it. Cross-site browser
requests are refused.

Before login, a connection is anybody's: at most --max-handshakes log in at once, each within
--handshake-timeout, with packets of at most 128 KiB.

SIGTERM/SIGINT: stop accepting, let connections finish for --drain-timeout (an idle connection
is closed at once, a busy one after its command), run the queued shadow copies, flush the logs,
exit 0.

Restarts without a refused connection (new binary, new flags from the environment): send
SIGUSR2. The process starts its successor (the same executable and arguments) with the listening
sockets inherited, waits until it serves, then drains as on SIGTERM; the socket is never closed,
so no connection waiting to be accepted is lost. Under systemd, socket activation works too
(LISTEN_FDS: the first socket is --listen, the second --metrics-addr). The listener also uses
SO_REUSEPORT, but a second instance started beside the first loses the connections still queued
on the first when it closes.`,
		Example: `  # Mirror reads from the production FE to the shadow FE, logs on local disk
  SRCTL_SHADOW_PASSWORD=... srctl shadow --listen :9030 --primary fe-prod:9030 \
    --shadow fe-shadow:9030 --shadow-user shadow_reader --log-sink ./lake/shadow-logs

  # Then: what regressed, failed or returned other rows on the shadow
  srctl diff ./lake/shadow-logs

  # Logs to GCS, 10% of reads, no exports
  srctl shadow --primary fe-prod:9030 --shadow fe-shadow:9030 --sample-rate 0.1 \
    --exclude-regex '(?i)/\*.*route=.?/api/v1/export' --log-sink gs://my-lake/shadow-logs

  # Live cutover to the shadow and back (with --allow-cutover)
  curl -X POST -H "Authorization: Bearer $SRCTL_CONTROL_TOKEN" 'localhost:9092/source?to=shadow'
  curl -X POST -H "Authorization: Bearer $SRCTL_CONTROL_TOKEN" 'localhost:9092/source?to=primary'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShadow(cmd.Context(), o, g.logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", ":9030", "address clients connect to (MySQL protocol)")
	f.StringVar(&o.primary, "primary", "", "primary (production) MySQL-protocol address HOST:PORT; its answers go to the clients (required)")
	f.StringVar(&o.shadow, "shadow", "", "shadow MySQL-protocol address HOST:PORT; gets a copy of the traffic (required)")
	f.StringVar(&o.shadowUser, "shadow-user", "root", "user of the shadow sessions")
	f.StringVar(&o.passwordFile, "shadow-password-file", "", "file holding the shadow user's password (else SRCTL_SHADOW_PASSWORD)")
	f.StringVar(&o.logSink, "log-sink", defaultShadowLogSink, "where log rows go: DIR, file://DIR, gs://bucket/prefix, s3://bucket/prefix"+icebergSinkForm)
	f.DurationVar(&o.flushInterval, "log-flush-interval", time.Second, "longest time a log row waits in memory")
	f.IntVar(&o.logBatchRows, "log-batch-rows", 0, fmt.Sprintf("most log rows in one batch (a JSONL object per hour it spans, or an Iceberg commit), written before --log-flush-interval ends when full; 0: %d%s (fewer rows: less memory at high query rates, more objects)", shadowproxy.DefaultLogBatchRows, icebergBatchRows))
	f.StringVar(&o.endpointRules, "endpoint-rules", "", "YAML file of endpoint rules for SQL without sqlcommenter or Marginalia tags (the endpoint key of the logs)")
	f.BoolVar(&o.mirrorWrites, "mirror-writes", false, "mirror writes too (INSERT, UPDATE, DELETE, DDL...): only for a shadow whose data may change")
	f.StringSliceVar(&o.includeTypes, "include-types", nil, "mirror only these statement types: select, show, describe, explain, insert, update, delete, replace, create, drop, alter, truncate, load, call, other")
	f.StringSliceVar(&o.excludeTypes, "exclude-types", nil, "never mirror these statement types")
	f.StringVar(&o.includeRegex, "include-regex", "", "mirror only statements matching this regular expression (Go RE2 syntax)")
	f.StringVar(&o.excludeRegex, "exclude-regex", "", "never mirror statements matching this regular expression")
	f.Float64Var(&o.sampleRate, "sample-rate", 1, "share of eligible statements mirrored, in (0, 1]")
	f.Var(&o.queueBytes, "queue-bytes", "bytes of shadow copies waiting per connection (payload, text and 256 bytes each); beyond it copies are dropped (queue_full)")
	f.Var(&o.queueTotalBytes, "queue-total-bytes", "bytes of shadow copies waiting in all connections together: the proxy's memory bound for a slow or stalled shadow")
	f.DurationVar(&o.queueMaxWait, "queue-max-wait", time.Minute, "a copy that waited longer for the shadow is dropped when its turn comes (queue_expired), so a shadow that fell behind catches up")
	f.IntVar(&o.queueSize, "queue-size", 0, "also bound the copies waiting per connection by number (0: bytes and time bound the queue)")
	f.DurationVar(&o.shadowTimeout, "shadow-timeout", 30*time.Second, "longest a command may take on the shadow before its session is reopened")
	f.DurationVar(&o.dialTimeout, "dial-timeout", 5*time.Second, "timeout connecting to a backend")
	f.Var(&o.maxMirror, "max-mirror-bytes", "larger commands are not mirrored (dropped, too_large)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) offered to clients that ask for TLS; with --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	o.primaryTLS.addFlags(f, "primary")
	o.shadowTLS.addFlags(f, "shadow")
	f.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:9092", "address serving /metrics, /healthz, /readyz and /source (loopback by default; :9092 serves every interface, e.g. for Kubernetes probes); empty disables")
	f.BoolVar(&o.pprof, "pprof", false, "also serve Go's /debug/pprof on --metrics-addr (performance investigations; keep it off on untrusted networks)")
	f.BoolVar(&o.allowCutover, "allow-cutover", false, "let POST /source?to=shadow make the shadow the source of answers (needs a control token)")
	f.StringVar(&o.tokenFile, "control-token-file", "", "file holding the token POST /source requires as 'Authorization: Bearer TOKEN' (else SRCTL_CONTROL_TOKEN; at least 16 characters)")
	f.IntVar(&o.maxHandshakes, "max-handshakes", 128, "connections logging in at once; more are refused with error 1040 until some finish (bounds what unauthenticated clients can hold)")
	f.DurationVar(&o.handshakeTime, "handshake-timeout", 10*time.Second, "longest a client may take to log in")
	f.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long open connections may finish before they are cut")
	o.lake.addFlags(f)
	f.StringVar(&o.store.S3Endpoint, "s3-endpoint", "", "S3 endpoint URL for S3-compatible stores (MinIO, ...)")
	f.StringVar(&o.store.S3Region, "s3-region", "", "S3 region (default AWS_REGION, else us-east-1)")
	f.BoolVar(&o.store.S3PathStyle, "s3-path-style", false, "address S3 buckets as endpoint/bucket (most S3-compatible stores)")
	f.StringVar(&o.store.GCSEndpoint, "gcs-endpoint", "", "GCS JSON API endpoint (emulators); STORAGE_EMULATOR_HOST also works")
	return cmd
}

// maxLogBatchRows is the largest --log-batch-rows: the log sink's buffer (rows waiting to be
// batched) holds no more.
const maxLogBatchRows = shadowproxy.DefaultLogBufferRows

// shadowConfig turns the options into the proxy's configuration (no I/O but reading files).
func (o *shadowOptions) shadowConfig() (shadowproxy.Config, error) {
	var cfg shadowproxy.Config
	if o.primary == "" || o.shadow == "" {
		return cfg, usageErrorf("--primary and --shadow are both required")
	}
	if o.logBatchRows < 0 || o.logBatchRows > maxLogBatchRows {
		return cfg, usageErrorf("--log-batch-rows %d: want 0 (the default) to %d", o.logBatchRows, maxLogBatchRows)
	}
	for flag, addr := range map[string]string{"primary": o.primary, "shadow": o.shadow} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return cfg, usageErrorf("--%s %q: want HOST:PORT", flag, addr)
		}
	}
	pw, err := shadowPassword(o.passwordFile)
	if err != nil {
		return cfg, err
	}
	cfg = shadowproxy.Config{Primary: o.primary, Shadow: o.shadow, ShadowUser: o.shadowUser, ShadowPassword: pw,
		QueueSize: o.queueSize, QueueBytes: int(o.queueBytes), TotalQueueBytes: int(o.queueTotalBytes), QueueMaxWait: o.queueMaxWait, ShadowTimeout: o.shadowTimeout, DialTimeout: o.dialTimeout, MaxMirrorBytes: int(o.maxMirror),
		AllowCutover: o.allowCutover, MaxHandshakes: o.maxHandshakes, HandshakeTimeout: o.handshakeTime}
	cfg.Policy = shadowproxy.Policy{MirrorWrites: o.mirrorWrites, IncludeTypes: o.includeTypes, ExcludeTypes: o.excludeTypes, SampleRate: o.sampleRate}
	if o.includeRegex != "" {
		if cfg.Policy.Include, err = regexp.Compile(o.includeRegex); err != nil {
			return cfg, usageErrorf("--include-regex: %v", err)
		}
	}
	if o.excludeRegex != "" {
		if cfg.Policy.Exclude, err = regexp.Compile(o.excludeRegex); err != nil {
			return cfg, usageErrorf("--exclude-regex: %v", err)
		}
	}
	if err := cfg.Policy.Validate(); err != nil {
		return cfg, usageErrorf("%v", err)
	}
	if o.queueSize < 0 {
		return cfg, usageErrorf("--queue-size %d: want 0 (no bound by number) or more", o.queueSize)
	}
	if o.queueMaxWait <= 0 {
		return cfg, usageErrorf("--queue-max-wait %v: want a positive duration", o.queueMaxWait)
	}
	if o.maxHandshakes <= 0 {
		return cfg, usageErrorf("--max-handshakes %d: want at least 1", o.maxHandshakes)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return cfg, usageErrorf("--tls-cert and --tls-key go together")
	}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return cfg, usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		cfg.ClientTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.PrimaryTLS, err = o.primaryTLS.config("primary", o.primary); err != nil {
		return cfg, err
	}
	if cfg.ShadowTLS, err = o.shadowTLS.config("shadow", o.shadow); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// shadowPassword reads the shadow password from the file or SRCTL_SHADOW_PASSWORD, never from
// a flag (process listings, shell history).
func shadowPassword(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("--shadow-password-file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return os.Getenv("SRCTL_SHADOW_PASSWORD"), nil
}

// openLogWriter opens the store the log rows go to.
func (o *shadowOptions) openLogWriter(ctx context.Context) (shadowproxy.LogWriter, func(), error) {
	if isIcebergURI(o.logSink) {
		return o.lake.open(ctx, o.logSink)
	}
	b, err := objstore.Open(ctx, o.logSink, o.store)
	if err != nil {
		return nil, nil, usageErrorf("--log-sink: %v", err)
	}
	return shadowproxy.JSONLWriter(b), func() { b.Close() }, nil
}

func runShadow(ctx context.Context, o *shadowOptions, lg *slog.Logger) error {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	cfg, err := o.shadowConfig()
	if err != nil {
		return err
	}
	token, err := controlToken(o.tokenFile)
	if err != nil {
		return err
	}
	if o.allowCutover && token == "" {
		return usageErrorf("--allow-cutover needs a control token: set SRCTL_CONTROL_TOKEN or --control-token-file")
	}
	var rules *fingerprint.Rules
	if o.endpointRules != "" {
		data, err := os.ReadFile(o.endpointRules)
		if err != nil {
			return usageErrorf("--endpoint-rules: %v", err)
		}
		if rules, err = fingerprint.ParseRules(data, o.endpointRules); err != nil {
			return usageErrorf("--endpoint-rules: %v", err)
		}
	}
	w, closeWriter, err := o.openLogWriter(ctx)
	if err != nil {
		return err
	}
	defer closeWriter()
	batchRows := o.logBatchRows
	if batchRows == 0 && isIcebergURI(o.logSink) {
		batchRows = shadowproxy.DefaultIcebergLogBatchRows // each batch is a commit: fewer, larger ones
	}
	sink := shadowproxy.NewLogSink(w, shadowproxy.LogSinkConfig{FlushInterval: o.flushInterval, MaxBatch: batchRows, Rules: rules, Log: lg})
	cfg.Sink, cfg.Log = sink, lg
	shadowproxy.TuneGC()
	proxy, err := shadowproxy.New(cfg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	ln, inheritedMetrics, err := inheritedListeners()
	if err != nil {
		return err
	}
	if ln == nil {
		if ln, err = shadowproxy.Listen(ctx, o.listen); err != nil {
			return fmt.Errorf("--listen %s: %w", o.listen, err)
		}
	}
	var metricsLn net.Listener
	if o.metricsAddr != "" {
		stop, bound, err := serveShadowMetrics(o.metricsAddr, inheritedMetrics, o.pprof, token, proxy, sink, lg)
		if err != nil {
			ln.Close()
			return err
		}
		metricsLn = bound
		defer stop()
	} else if inheritedMetrics != nil {
		inheritedMetrics.Close()
	}
	lg.Info("shadow proxy listening", "listen", ln.Addr().String(), "primary", o.primary, "shadow", o.shadow,
		"log_sink", w.String(), "mirror_writes", o.mirrorWrites, "sample_rate", o.sampleRate, "metrics", o.metricsAddr)
	proxy.Stats().ShadowUserCanWrite.Store(-1)
	go checkShadowGrants(ctx, cfg, proxy.Stats(), lg)
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(ln) }()
	signalReady() // a predecessor handing over may stop accepting now
	upgrades := make(chan os.Signal, 1)
	if len(upgradeSignals) > 0 {
		signal.Notify(upgrades, upgradeSignals...)
		defer signal.Stop(upgrades)
	}
wait:
	for {
		select {
		case err := <-served:
			if err != nil {
				return err
			}
			break wait
		case <-ctx.Done():
			break wait
		case <-upgrades:
			pid, err := handOver(ln, metricsLn, 30*time.Second)
			if err != nil {
				lg.Error("handing the listeners to a successor failed; still serving", "err", err)
				continue
			}
			lg.Warn("listeners handed to a successor; draining", "successor_pid", pid)
			break wait
		}
	}
	lg.Info("draining", "connections", proxy.ActiveConnections(), "drain_timeout", o.drainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	cut := proxy.Shutdown(dctx)
	cancel()
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Close(fctx); err != nil {
		return fmt.Errorf("flushing the logs to %s: %w", w.String(), err)
	}
	st := proxy.Stats()
	lg.Info("stopped: logs flushed", "connections_cut", cut, "commands", st.Commands.Load(), "mirrored", st.ShadowExecuted.Load(),
		"dropped", st.ShadowDropped.Load(), "filtered", st.Filtered.Load(), "log_rows", sink.Written.Load(), "log_rows_lost", sink.Dropped.Load())
	return nil
}

// serveShadowMetrics serves /metrics, /healthz, /readyz and the /source switch.
func serveShadowMetrics(addr string, inherited net.Listener, withPprof bool, token string, p *shadowproxy.Proxy, sink *shadowproxy.LogSink, lg *slog.Logger) (func(), net.Listener, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	shadowproxy.RegisterMetrics(reg, p, sink)

	mux := newMetricsMux(reg, withPprof)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/source", sourceHandler(p, token, lg))
	return serveHTTP(addr, inherited, mux, lg)
}
