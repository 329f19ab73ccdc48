//go:build !shadowonly

package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/collector"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
)

const defaultProfileSink = "./srctl-lake/starrocks-query-profiles"

type collectOptions struct {
	cfg              collector.Config
	feHosts          []string
	passwordFile     string
	endpointRules    string
	api              string
	sink             string
	lake             lakeOptions
	store            objstore.Options
	metricsAddr      string
	pprof            bool
	duration         time.Duration
	maxBufferedBytes byteSize
	maxProfileBytes  byteSize
	journalSegBytes  byteSize
}

func newCollectCmd(g *globals) *cobra.Command {
	o := &collectOptions{cfg: collector.DefaultConfig()}
	o.maxBufferedBytes = byteSize(o.cfg.MaxBufferedBytes)
	o.maxProfileBytes = byteSize(o.cfg.MaxProfileBytes)
	o.journalSegBytes = byteSize(o.cfg.JournalSegmentBytes)
	cmd := &cobra.Command{
		Use:   "collect --cluster NAME --fe-hosts HOST:PORT,... [--sink URI]",
		Short: "Collect query details and execution profiles from every FE into a lake",
		Long: `collect polls /api/query_detail on every StarRocks FE (each at least every --poll-interval;
FEs keep query details for only 30-35 s), fetches each finished or failed query's profile from
/api/profile, and writes one JSON line per query to Hive-partitioned objects:

  <sink>/year=YYYY/month=MM/day=DD/hour=HH/YYYYMMDD_HHMMSS_<8 hex>.jsonl   (hour of query start)

Records keep every key of the earlier collector (ts, fe_host, cluster, sr_query_id, state,
database, user, start_time, end_time, duration_ms, sql_text, query_hash, profile_text) and add
srctl's own (FE statistics, error_message, fingerprint, endpoint, profile_status, ...).

Nothing is lost: each query is written to a journal in --state-dir/journal (fsync every
100 ms) as soon as it is polled, before its profile is fetched, and its record again when it is
complete; records are uploaded from there in batches. A restart (SIGKILL included) resumes the
profile fetches and uploads from the journal instead of re-reading the FE, which keeps query
details for 30 s and the last --fe-profiles-kept profiles. In Kubernetes --state-dir must be a
volume that survives container restarts (an emptyDir survives those, not a pod's rescheduling;
a PersistentVolumeClaim survives both); without it a restart re-reads what the FEs still hold.
When the sink is down, batches are spilled to --state-dir/spill and replayed later under the
same batch id (objects are named after it, so a partly stored batch is completed). A profile
is fetched a second after its query ends; FAILED and CANCELLED queries get one attempt and are
written either way. A window the FE evicted before it was polled is logged, counted
(srctl_collect_gaps_total) and written as a record with state GAP. A crash may repeat the
records of the last upload; (cluster, sr_query_id) identifies them. SIGTERM flushes and exits 0.
The FE password is read only from SRCTL_FE_PASSWORD (or FE_PASSWORD) or
--fe-password-file, and never printed. The FE user needs GRANT OPERATE ON SYSTEM on FEs that
enforce HTTP authorisation.

Sinks: a directory (plain path or file://DIR), gs://bucket/prefix (application-default
credentials), s3://bucket/prefix (the AWS credential chain), or an Apache Iceberg table
iceberg://local/<namespace>.profiles in the embedded catalog under --lake-dir: each flush is
one snapshot holding the records and the per-FE cursors, so a restart resumes from the table
and a crash neither loses nor duplicates a record (exactly once). Without --sink the earlier
collector's OUTPUT_DIR, GCS_BUCKET/GCS_PREFIX or S3_BUCKET/S3_PREFIX are used, else ` + defaultProfileSink + `.`,
		Example: `  # Two FEs, local files, metrics on 127.0.0.1:9091
  SRCTL_FE_PASSWORD=... srctl collect --cluster prod --fe-hosts fe-0:8030,fe-1:8030 --sink ./lake/profiles

  # Kubernetes sidecar: discover FEs through the headless service, write to GCS
  srctl collect --cluster prod --fe-headless-service starrocks-fe-search.db.svc.cluster.local \
    --sink gs://my-lake/starrocks-query-profiles --state-dir /var/lib/srctl --metrics-addr :9091

  # Stop by itself after a minute (demos, smoke tests)
  srctl collect --cluster dev --fe-hosts 127.0.0.1:8030 --duration 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollect(cmd.Context(), o, g.logger)
		},
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&c.Cluster, "cluster", "", "cluster name written in every record (required)")
	f.StringSliceVar(&o.feHosts, "fe-hosts", nil, "FEs to poll: host, host:port or https://host:port, comma-separated")
	f.StringVar(&c.HeadlessService, "fe-headless-service", "", "DNS name whose addresses are the FEs, re-resolved every poll (Kubernetes headless service)")
	f.IntVar(&c.HTTPPort, "fe-http-port", c.HTTPPort, "FE HTTP port for hosts without one and for the headless service")
	f.StringVar(&c.Scheme, "fe-scheme", c.Scheme, "http or https for FEs given without a scheme")
	f.StringVar(&c.User, "fe-user", c.User, "FE user for HTTP Basic auth")
	f.StringVar(&o.passwordFile, "fe-password-file", "", "file holding the FE password (else SRCTL_FE_PASSWORD or FE_PASSWORD)")
	f.StringVar(&c.TLSCAFile, "fe-tls-ca", "", "PEM file of the CA that signs the FEs' HTTPS certificates")
	f.StringVar(&o.api, "api", string(c.API), "FE API: v1 (/api/...), v2 (/api/v2/..., 4.0 line) or auto (query details via v2 with a per-FE fallback to v1; profiles via v1, which serves raw text)")
	f.DurationVar(&c.PollInterval, "poll-interval", c.PollInterval, "time between the starts of two polls of each FE (at most: shorter when the FE keeps profiles briefly); keep it at 10s or less")
	f.DurationVar(&c.FlushInterval, "flush-interval", c.FlushInterval, "longest time a record waits in memory before it is written")
	f.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "records per write: a full batch is written at once")
	f.Var(&o.maxBufferedBytes, "max-buffered-bytes", "memory for records not yet durable; polling pauses when it is reached")
	f.DurationVar(&c.DedupTTL, "dedup-ttl", c.DedupTTL, "how long a collected query id is remembered to drop repeats")
	f.IntVar(&c.DedupSize, "dedup-size", c.DedupSize, "how many collected query ids are remembered")
	f.IntVar(&c.MaxFetches, "max-concurrent-fetches", c.MaxFetches, "profile fetches in flight per FE")
	f.DurationVar(&c.ProfileRetryFor, "profile-retry-for", c.ProfileRetryFor, "how long a FINISHED query's profile that is not there yet (HTTP 404, built asynchronously) is retried")
	f.IntVar(&c.ProfilesKept, "fe-profiles-kept", c.ProfilesKept, "the FEs' profile_info_reserved_num: with the rate queries finish it tells how long a profile lives, which paces polls and ends retries of evicted profiles")
	f.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "timeout of one FE or sink request")
	f.Var(&o.maxProfileBytes, "max-profile-bytes", "largest profile fetched; larger ones are recorded as too_large")
	f.DurationVar(&c.SpillAfter, "spill-after", c.SpillAfter, "how long a failing sink write is retried before the batch is spilled to --state-dir")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "time allowed to flush on SIGTERM")
	f.BoolVar(&c.ProfileMetrics, "profile-metrics", c.ProfileMetrics, "add each profile's headline metrics (CPU, memory, scan, top operators) to its record under \"metrics\"; costs about a core per 600 MB/s of profiles")
	f.StringVar(&o.endpointRules, "endpoint-rules", "", "YAML file of endpoint rules (name + regular expression) for SQL without sqlcommenter or Marginalia tags; see README")
	f.StringVar(&c.StateDir, "state-dir", c.StateDir, "directory for cursor checkpoints and spill files (a persistent volume in Kubernetes)")
	f.BoolVar(&c.JournalRecycle, "journal-recycle", c.JournalRecycle, "write journal segments done with over again instead of deleting them (two spare segments: 128 MiB of --state-dir at the default --journal-segment-bytes): less CPU on virtual machines that hand freed memory back to the host; a segment's old lines are made unreadable first, so any version of srctl can read the journal after a rollback")
	f.Var(&o.journalSegBytes, "journal-segment-bytes", "size at which the journal in --state-dir starts a new file; a file is deleted (or recycled) once all of it is uploaded, so smaller ones free the disk sooner, at more files (at least 1MiB)")
	f.StringVar(&o.sink, "sink", "", "where records go: DIR, file://DIR, gs://bucket/prefix, s3://bucket/prefix or an Iceberg table iceberg://local/NAMESPACE.profiles")
	o.lake.addFlags(f)
	f.StringVar(&o.store.S3Endpoint, "s3-endpoint", "", "S3 endpoint URL for S3-compatible stores (MinIO, ...)")
	f.StringVar(&o.store.S3Region, "s3-region", "", "S3 region (default AWS_REGION, else us-east-1)")
	f.BoolVar(&o.store.S3PathStyle, "s3-path-style", false, "address S3 buckets as endpoint/bucket (most S3-compatible stores)")
	f.StringVar(&o.store.GCSEndpoint, "gcs-endpoint", "", "GCS JSON API endpoint (emulators); STORAGE_EMULATOR_HOST also works")
	f.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:9091", "address serving /metrics, /healthz and /readyz (loopback by default; :9091 serves every interface, e.g. for Kubernetes probes and scraping); empty disables")
	f.BoolVar(&o.pprof, "pprof", false, "also serve Go's /debug/pprof on --metrics-addr (for performance investigations; keep it off on untrusted networks)")
	f.DurationVar(&o.duration, "duration", 0, "stop (and flush) after this long; 0 runs until SIGINT/SIGTERM")
	return cmd
}

func runCollect(ctx context.Context, o *collectOptions, lg *slog.Logger) error {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	cfg := o.cfg
	cfg.FEHosts = o.feHosts
	cfg.API = collector.API(o.api)
	cfg.MaxBufferedBytes = int64(o.maxBufferedBytes)
	cfg.MaxProfileBytes = int64(o.maxProfileBytes)
	cfg.JournalSegmentBytes = int64(o.journalSegBytes)
	cfg.Logger = lg
	pw, err := fePassword(o.passwordFile)
	if err != nil {
		return err
	}
	cfg.Password = pw
	if o.duration < 0 {
		return usageErrorf("--duration %s is negative", o.duration)
	}
	sinkURI := o.sink
	if sinkURI == "" {
		sinkURI = legacySink()
	}
	if o.endpointRules != "" {
		data, err := os.ReadFile(o.endpointRules)
		if err != nil {
			return usageErrorf("--endpoint-rules: %v", err)
		}
		if cfg.EndpointRules, err = fingerprint.ParseRules(data, o.endpointRules); err != nil {
			return usageErrorf("--endpoint-rules: %v", err)
		}
	}
	// Check everything that needs no I/O before opening the sink.
	if err := cfg.Validate(); err != nil {
		return &usageError{err}
	}
	var sinkName string
	if lakehouse.IsTableURI(sinkURI) {
		u, err := lakehouse.ParseTableURI(sinkURI)
		if err != nil {
			return usageErrorf("--sink: %v", err)
		}
		sink, closeSink, err := openProfileTable(ctx, &o.lake, u)
		if err != nil {
			return err
		}
		defer closeSink()
		cfg.Sink, sinkName = sink, u.String()
	} else {
		sink, err := objstore.Open(ctx, sinkURI, o.store)
		if err != nil {
			return usageErrorf("--sink: %v", err)
		}
		defer sink.Close()
		cfg.Sink, sinkName = collector.JSONLSink(sink), sink.String()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registerer = reg
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("GOGC") == "" {
		// The heap is bounded by --max-buffered-bytes (profiles being fetched) plus one upload
		// batch read back from the journal (a quarter of it). The GC is paced by a soft limit
		// above that, not by heap growth (at thousands of profiles per second GOGC=100 spends
		// a core's fifth on collections for nothing); GOGC=400 stays on as a backstop, so a
		// heap that outgrows the limit is still collected at a bounded ratio.
		debug.SetMemoryLimit(cfg.MaxBufferedBytes + cfg.MaxBufferedBytes/2 + 64<<20)
		debug.SetGCPercent(400)
	}
	col, err := collector.New(cfg)
	if err != nil {
		return &usageError{err}
	}
	if o.metricsAddr != "" {
		stop, err := serveMetrics(o.metricsAddr, o.pprof, reg, col, lg)
		if err != nil {
			return err
		}
		defer stop()
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	fes := strings.Join(o.feHosts, ",")
	if cfg.HeadlessService != "" {
		fes = "dns:" + cfg.HeadlessService
	}
	lg.Info("collecting", "cluster", cfg.Cluster, "fes", fes, "sink", sinkName, "state_dir", cfg.StateDir,
		"poll_interval", cfg.PollInterval, "metrics", o.metricsAddr)
	if err := col.Run(ctx); err != nil {
		return err
	}
	st := col.Stats()
	lg.Info("stopped cleanly: every complete record is in the sink or the spill directory; profile fetches not done yet stay in the journal for the next run",
		"records_written", st.RecordsWritten, "objects", st.ObjectsWritten, "records_spilled", st.RecordsSpilled,
		"profiles_missing", st.ProfilesMissing)
	return nil
}

// fePassword reads the password from the file or the environment. Never from a flag: flags show
// up in process listings and shell history.
func fePassword(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("--fe-password-file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	for _, name := range []string{"SRCTL_FE_PASSWORD", "FE_PASSWORD"} {
		if v, ok := os.LookupEnv(name); ok {
			return v, nil
		}
	}
	return "", nil
}

// legacySink composes the sink from the earlier collector's variables.
func legacySink() string {
	prefix := func(name string) string {
		if p := strings.Trim(os.Getenv(name), "/"); p != "" {
			return p
		}
		return "starrocks-query-profiles"
	}
	switch {
	case os.Getenv("GCS_BUCKET") != "":
		return "gs://" + os.Getenv("GCS_BUCKET") + "/" + prefix("GCS_PREFIX")
	case os.Getenv("S3_BUCKET") != "":
		return "s3://" + os.Getenv("S3_BUCKET") + "/" + prefix("S3_PREFIX")
	case os.Getenv("OUTPUT_DIR") != "":
		return os.Getenv("OUTPUT_DIR")
	}
	return defaultProfileSink
}
