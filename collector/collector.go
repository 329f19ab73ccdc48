package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse/sink"
)

// Resolver looks up the addresses of a headless service; net.DefaultResolver fits.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Config of a collector. Zero durations and sizes take the defaults of DefaultConfig.
type Config struct {
	Cluster         string
	FEHosts         []string // host, host:port or http(s)://host:port
	HeadlessService string   // resolved every poll instead of FEHosts
	HTTPPort        int      // for hosts without a port and for the headless service
	Scheme          string   // http or https, for entries without a scheme
	User, Password  string
	TLSCAFile       string
	API             API

	PollInterval     time.Duration
	FlushInterval    time.Duration
	BatchSize        int
	MaxBufferedBytes int64
	DedupTTL         time.Duration
	DedupSize        int
	MaxFetches       int // profile fetches in flight per FE
	// ProfilesKept is the FE's profile_info_reserved_num (StarRocks' default 500): with the rate
	// at which queries finish it gives how long a profile lives, which paces polls and fetches.
	ProfilesKept    int
	ProfileRetryFor time.Duration
	RequestTimeout  time.Duration
	MaxDetailBytes  int64
	MaxProfileBytes int64
	SpillAfter      time.Duration // how long a flush retries the sink before spilling locally
	ShutdownTimeout time.Duration
	Retention       time.Duration // FE query_detail retention, for gap detection (30s)
	ForgetFEAfter   time.Duration // cursors of FEs gone this long are dropped (1h)
	StateDir        string
	// ProfileMetrics adds the headline metrics of each profile to its record (see
	// analyze/profile.ScanHeadlines); it costs about a core per 600 MB/s of profiles.
	ProfileMetrics bool
	// JournalRecycle writes journal segments done with over again instead of deleting them (up
	// to two spare segments, 128 MiB of StateDir at the default JournalSegmentBytes): no fresh
	// page-cache pages for the journal, which writes every profile once more (10-25% less CPU at
	// thousands of queries/s on a virtual machine that hands freed memory back to its host; no
	// difference measured on one that does not). On by default: the lines of a segment's old
	// life are made unreadable before it is written over, so any version, those from before
	// recycling included, reads a recycled journal correctly.
	JournalRecycle bool
	// JournalSegmentBytes is the size at which the journal starts a new segment (64 MiB): a
	// segment is deleted, or recycled, only when all of it is done with.
	JournalSegmentBytes int64
	// EndpointRules name the endpoint of statements whose SQL carries no sqlcommenter or
	// Marginalia tags (nil: such records have no endpoint).
	EndpointRules *fingerprint.Rules

	Sink       Sink
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Resolver   Resolver
}

// DefaultConfig holds the defaults the command's flags show.
func DefaultConfig() Config {
	return Config{
		HTTPPort: 8030, Scheme: "http", User: "root", API: APIAuto,
		PollInterval: 5 * time.Second, FlushInterval: 10 * time.Second, BatchSize: 500,
		MaxBufferedBytes: 64 << 20, DedupTTL: 10 * time.Minute, DedupSize: 200_000, MaxFetches: 16, ProfilesKept: 500,
		ProfileRetryFor: 10 * time.Second, RequestTimeout: 30 * time.Second,
		MaxDetailBytes: 512 << 20, MaxProfileBytes: 64 << 20, SpillAfter: 10 * time.Second,
		ShutdownTimeout: 30 * time.Second, Retention: 30 * time.Second, ForgetFEAfter: time.Hour,
		StateDir: "./srctl-state", ProfileMetrics: true, JournalRecycle: true, JournalSegmentBytes: defaultJournalSegmentBytes,
	}
}

// Validate rejects configurations that cannot work, naming the setting. It needs no I/O and
// does not look at Sink, so that a command can check its flags before opening the sink.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Cluster == "" {
		bad("--cluster is required (it names the records' cluster and keys them)")
	}
	if len(c.FEHosts) == 0 && c.HeadlessService == "" {
		bad("one of --fe-hosts or --fe-headless-service is required")
	}
	if len(c.FEHosts) > 0 && c.HeadlessService != "" {
		bad("--fe-hosts and --fe-headless-service are exclusive")
	}
	for _, h := range c.FEHosts {
		if _, err := parseFEHost(h, c.Scheme, c.HTTPPort); err != nil {
			errs = append(errs, err)
		}
	}
	if c.HTTPPort <= 0 || c.HTTPPort > 65535 {
		bad("--fe-http-port %d is not a port", c.HTTPPort)
	}
	if c.Scheme != "http" && c.Scheme != "https" {
		bad("--fe-scheme %q: want http or https", c.Scheme)
	}
	switch c.API {
	case APIv1, APIv2, APIAuto:
	default:
		bad("--api %q: want v1, v2 or auto", c.API)
	}
	if c.PollInterval <= 0 {
		bad("--poll-interval must be positive")
	}
	for name, d := range map[string]time.Duration{"--flush-interval": c.FlushInterval, "--dedup-ttl": c.DedupTTL,
		"--profile-retry-for": c.ProfileRetryFor, "--shutdown-timeout": c.ShutdownTimeout, "--request-timeout": c.RequestTimeout} {
		if d <= 0 {
			bad("%s must be positive, got %s", name, d)
		}
	}
	if c.BatchSize <= 0 || c.DedupSize <= 0 || c.MaxFetches <= 0 || c.ProfilesKept <= 0 {
		bad("--batch-size, --dedup-size, --max-concurrent-fetches and --fe-profiles-kept must be positive")
	}
	if c.MaxBufferedBytes < 1<<20 {
		bad("--max-buffered-bytes %d is below 1 MiB", c.MaxBufferedBytes)
	}
	if c.JournalSegmentBytes != 0 && c.JournalSegmentBytes < 1<<20 {
		bad("--journal-segment-bytes %d is below 1 MiB", c.JournalSegmentBytes)
	}
	if c.StateDir == "" {
		bad("--state-dir is required (cursor checkpoints and spill files live there)")
	}
	return errors.Join(errs...)
}

type target struct {
	host string // host:port: the FE's identity in cursors, logs and metric labels
	base string // scheme://host:port
}

func parseFEHost(s, scheme string, port int) (target, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return target{}, fmt.Errorf("--fe-hosts has an empty entry")
	}
	if !strings.Contains(s, "://") {
		s = scheme + "://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return target{}, fmt.Errorf("--fe-hosts entry %q: want host, host:port or http(s)://host:port", s)
	}
	if u.User != nil {
		return target{}, fmt.Errorf("--fe-hosts entry for %s carries credentials: use --fe-user and SRCTL_FE_PASSWORD", u.Hostname())
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	}
	return target{host: host, base: u.Scheme + "://" + host}, nil
}

// Collector runs the poll loops and the writer. Create with New, run once with Run.
type Collector struct {
	cfg    Config
	log    *slog.Logger
	m      *metrics
	httpc  *http.Client
	dedup  *lru.Cache[string, time.Time]
	budget *budget
	w      *writer
	j      *journal

	mu  sync.Mutex
	fes map[string]*feState

	stats Stats

	lastPollOK atomic.Int64 // unix nanos of the last successful poll of any FE
	writerBeat atomic.Int64 // unix nanos of the writer's last loop
}

// feState outlives the FE's worker: an FE that leaves discovery keeps its cursor for
// ForgetFEAfter, so it resumes where it was if it comes back.
type feState struct {
	target target
	client *feClient
	// tracker is the cursor below which every record is in the sink: the checkpoint a restart
	// without the journal (a lost --state-dir) resumes from. polled is the cursor below which
	// every entry is in the journal: where polling resumes when the journal is there.
	tracker *cursorTracker
	polled  *cursorTracker
	running *lru.Cache[string, *QueryDetail]

	mu       sync.Mutex
	lastPoll time.Time
	lastSeen time.Time
	// polledTo is the FE's clock at the last poll whose entries are all journaled: nothing that
	// ended before it can be lost. Gap detection starts from it.
	polledTo time.Time
	cancel   context.CancelFunc
	done     chan struct{}
	// resume are fetches to pick up when the FE's worker starts: from the journal after a
	// restart, or left queued when the FE left discovery.
	resume []*item
	// finishRate (terminal entries per second) and fetchLag (how late first attempts start)
	// are moving averages; lastObserved is the time of the previous poll.
	finishRate   float64
	fetchLag     time.Duration
	lastObserved time.Time
	profilesKept int
	// carried are the checkpoint's written_above ids not yet polled again: they go into every
	// checkpoint until the first poll has shown where they stand (then the tracker holds those
	// still above the cursor, with their event times), or a third run would write them again.
	carried map[string]struct{}
}

// observe updates the finish rate with a poll that returned fresh terminal entries. The first
// poll of a run has no previous one to measure from: seen (the rate its entries' event times
// show, 0 when they are too few to tell) stands in, so that a restart does not poll at
// --poll-interval, blind to the FE's pace, while the profiles of the queries it missed age.
func (fe *feState) observe(now time.Time, fresh, kept int, seen float64) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	fe.profilesKept = kept
	if fe.lastObserved.IsZero() {
		fe.lastObserved = now
		fe.finishRate = max(fe.finishRate, seen)
		return
	}
	dt := now.Sub(fe.lastObserved).Seconds()
	if dt <= 0 {
		return
	}
	fe.lastObserved = now
	rate := float64(fresh) / dt
	// Weighted by the time covered, with a ~20 s memory: a burst shortens the lifetime at once,
	// and the first rate measured is taken whole (averaging it with "idle" would make the
	// lifetime look twice as long as it is, and the polls too far apart, for the next ~20 s).
	w := min(1, dt/20)
	switch {
	case fe.finishRate == 0:
		w = 1
	case rate > fe.finishRate:
		w = max(w, 0.5)
	}
	fe.finishRate += w * (rate - fe.finishRate)
}

// lagged records how late a first attempt started after it was due.
func (fe *feState) lagged(d time.Duration) {
	fe.mu.Lock()
	fe.fetchLag += (max(d, 0) - fe.fetchLag) / 8
	fe.mu.Unlock()
}

// lifetimeAndLag estimates how long the FE keeps a profile (profiles kept / finish rate; an hour
// when it is idle) and how late fetches run.
func (fe *feState) lifetimeAndLag() (time.Duration, time.Duration) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	life := time.Hour
	if fe.finishRate > 0 && fe.profilesKept > 0 {
		life = min(life, time.Duration(float64(fe.profilesKept)/fe.finishRate*float64(time.Second)))
	}
	return life, fe.fetchLag
}

// takeCarried reports whether id came from the checkpoint's written_above, and forgets it.
func (fe *feState) takeCarried(id string) bool {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	_, ok := fe.carried[id]
	delete(fe.carried, id)
	return ok
}

// dropCarried forgets the ids the first poll did not return: the FE no longer holds them, so
// they cannot be written again.
func (fe *feState) dropCarried() {
	fe.mu.Lock()
	fe.carried = nil
	fe.mu.Unlock()
}

// New checks cfg and prepares a collector.
func New(cfg Config) (*Collector, error) {
	def := DefaultConfig()
	fill := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	fill(&cfg.RequestTimeout, def.RequestTimeout)
	fill(&cfg.SpillAfter, def.SpillAfter)
	fill(&cfg.Retention, def.Retention)
	fill(&cfg.ForgetFEAfter, def.ForgetFEAfter)
	if cfg.MaxDetailBytes == 0 {
		cfg.MaxDetailBytes = def.MaxDetailBytes
	}
	if cfg.JournalSegmentBytes == 0 {
		cfg.JournalSegmentBytes = def.JournalSegmentBytes
	}
	if cfg.MaxProfileBytes == 0 {
		cfg.MaxProfileBytes = def.MaxProfileBytes
	}
	if cfg.Scheme == "" {
		cfg.Scheme = "http"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Sink == nil {
		return nil, errors.New("collector: no sink")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PollInterval > 10*time.Second {
		cfg.Logger.Warn("poll interval is above 10s: FEs keep query details for only 30-35 s, so bursts can be lost", "poll_interval", cfg.PollInterval)
	}
	httpc, err := newHTTPClient(cfg.TLSCAFile, cfg.MaxFetches, cfg.RequestTimeout)
	if err != nil {
		return nil, err
	}
	dedup, err := lru.New[string, time.Time](cfg.DedupSize)
	if err != nil {
		return nil, fmt.Errorf("dedup cache: %w", err)
	}
	c := &Collector{
		cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Registerer), httpc: httpc, dedup: dedup,
		budget: &budget{max: cfg.MaxBufferedBytes}, fes: map[string]*feState{},
	}
	c.w = newWriter(c)
	return c, nil
}

// Run collects until ctx is cancelled, then flushes what is complete within ShutdownTimeout.
// It returns nil after a clean shutdown, or the error that made the records unsafe.
func (c *Collector) Run(ctx context.Context) error {
	local, err := loadCheckpoint(c.cfg.StateDir, c.cfg.Cluster)
	if err != nil {
		return err
	}
	cp := local
	if cs, ok := c.cfg.Sink.(sink.CheckpointStore); ok {
		// The table is the authority on what is committed; the local checkpoint adds where
		// polling stood in the journal.
		if cp, err = loadCommittedCheckpoint(ctx, cs, c.cfg.Sink.String(), c.cfg.Cluster); err != nil {
			return err
		}
	}
	readStart := time.Now()
	j, rec, err := openJournal(filepath.Join(c.cfg.StateDir, "journal"),
		journalOptions{recycle: c.cfg.JournalRecycle, segmentBytes: c.cfg.JournalSegmentBytes}, local.Journal, cp.Journal)
	if err != nil {
		return err
	}
	journalRead := time.Since(readStart) // the FEs are not polled meanwhile: worth a look when long
	c.j, c.w.j = j, j
	j.onSync = func(d time.Duration) { c.m.journalSyncs.Observe(d.Seconds()) }
	j.onCarry = func(n int) { c.m.journalCarried.Add(float64(n)) }
	// Polling resumes from the journal's cursors when this journal is the one the local
	// checkpoint describes; otherwise (a new or lost --state-dir) from the sink's.
	journalOK := local.Journal != nil && local.Journal.ID == j.id
	now := time.Now()
	for host, fc := range cp.FEs {
		fe := c.restoreFE(host, fc)
		for _, id := range fc.WrittenAbove {
			// Queries above the cursor that were already written: drop them when they are
			// polled again, and keep them in the checkpoints until the cursor passes them.
			c.dedup.Add(id, now)
			fe.carried[id] = struct{}{}
		}
	}
	if journalOK {
		for host, fc := range local.FEs {
			fe := c.fes[host]
			if fe == nil {
				fe = c.restoreFE(host, fc)
			}
			if fc.JournalCursor > fe.polled.durable() {
				fe.polled = newCursorTracker(fc.JournalCursor)
				fe.tracker.seen(fc.JournalCursor)
			}
			if fc.PolledTo.After(fe.polledTo) {
				fe.polledTo = fc.PolledTo
			}
		}
	}
	for host, ids := range rec.ids {
		for _, id := range ids {
			c.dedup.Add(id, now)
		}
		if c.fes[host] == nil {
			c.restoreFE(host, feCheckpoint{})
		}
	}
	for _, d := range rec.details {
		fe := c.fes[d.fe]
		fe.tracker.add(d.detail.EventTime)
		fe.resume = append(fe.resume, &item{fe: fe, detail: d.detail, bytes: int64(len(d.detail.SQL)+len(d.detail.Explain)) + 1024,
			endedAt: endedAt(&d.detail, 0, now)})
	}
	for _, r := range rec.records {
		fe := c.fes[r.fe]
		fe.tracker.add(r.eventTime)
		c.w.submit(&pending{seq: r.seq, loc: r.loc, tracker: fe.tracker, eventTime: r.eventTime, fe: r.fe, queryID: r.queryID, bytes: int64(r.loc.n)})
	}
	if len(cp.FEs) > 0 || len(rec.details) > 0 || len(rec.records) > 0 {
		c.log.Info("resuming", "state_dir", c.cfg.StateDir, "fes", len(c.fes), "from_journal", journalOK,
			"profile_fetches_resumed", len(rec.details), "records_to_upload", len(rec.records),
			"journal_read_seconds", journalRead.Round(time.Millisecond).Seconds())
	}
	if err := c.w.openSpill(); err != nil {
		c.j.close()
		return err
	}

	// The writer's I/O outlives ctx: stopping must not cancel a write in flight (that batch
	// would be spilled instead of written). It ends ShutdownTimeout after ctx does.
	ioCtx, ioCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer ioCancel()
	stopWriter := make(chan struct{})
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); c.w.run(ioCtx, stopWriter) }()

	c.discoveryLoop(ctx)
	deadline := time.AfterFunc(c.cfg.ShutdownTimeout, ioCancel)
	defer deadline.Stop()
	c.stopAllFEs()
	// Everything journaled so far reaches the writer before its last flush; fetches still
	// queued stay in the journal for the next run.
	c.j.syncNow()
	close(stopWriter)
	<-writerDone
	err = c.w.final(ioCtx)
	if jerr := c.j.close(); jerr != nil && err == nil {
		err = fmt.Errorf("closing the journal: %w", jerr)
	}
	return err
}

// restoreFE creates the state of an FE known from a checkpoint or the journal.
func (c *Collector) restoreFE(host string, fc feCheckpoint) *feState {
	fe := &feState{target: target{host: host}, tracker: newCursorTracker(fc.Cursor), polled: newCursorTracker(fc.Cursor),
		lastPoll: fc.LastPoll, lastSeen: fc.LastSeen, carried: map[string]struct{}{}}
	c.fes[host] = fe
	return fe
}

// Ready reports whether an FE was polled successfully recently (for /readyz).
func (c *Collector) Ready() bool {
	last := c.lastPollOK.Load()
	window := max(3*c.cfg.PollInterval, 30*time.Second)
	return last != 0 && time.Since(time.Unix(0, last)) < window
}

// Healthy reports whether the writer loop is alive (for /healthz).
func (c *Collector) Healthy() bool {
	beat := c.writerBeat.Load()
	return beat == 0 || time.Since(time.Unix(0, beat)) < 5*c.cfg.FlushInterval+c.cfg.SpillAfter+time.Minute
}

func (c *Collector) discoveryLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for {
		targets, err := c.discover(ctx)
		if err != nil {
			c.log.Warn("FE discovery failed; polling the FEs known so far", "service", c.cfg.HeadlessService, "err", err)
			c.m.feErrors.WithLabelValues(c.cfg.HeadlessService, "dns").Inc()
		} else {
			c.reconcile(ctx, targets)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Collector) discover(ctx context.Context) ([]target, error) {
	if c.cfg.HeadlessService == "" {
		out := make([]target, 0, len(c.cfg.FEHosts))
		for _, h := range c.cfg.FEHosts {
			t, err := parseFEHost(h, c.cfg.Scheme, c.cfg.HTTPPort)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := c.cfg.Resolver.LookupHost(lctx, c.cfg.HeadlessService)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", c.cfg.HeadlessService, err)
	}
	out := make([]target, 0, len(addrs))
	for _, a := range addrs {
		host := net.JoinHostPort(a, strconv.Itoa(c.cfg.HTTPPort))
		out = append(out, target{host: host, base: c.cfg.Scheme + "://" + host})
	}
	return out, nil
}

// reconcile starts workers for new FEs, stops those that left, and forgets long-gone cursors.
func (c *Collector) reconcile(ctx context.Context, targets []target) {
	now := time.Now()
	live := map[string]bool{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range targets {
		live[t.host] = true
		fe := c.fes[t.host]
		if fe == nil {
			c.log.Info("new FE: collecting from its whole cache", "fe", t.host)
			fe = &feState{tracker: newCursorTracker(0), polled: newCursorTracker(0)}
			c.fes[t.host] = fe
		}
		fe.mu.Lock()
		fe.lastSeen = now
		if fe.cancel == nil && ctx.Err() == nil {
			fe.target = t // fixed while a worker runs: it reads it without the lock
			c.startFE(ctx, fe)
		}
		fe.mu.Unlock()
	}
	for host, fe := range c.fes {
		if live[host] {
			continue
		}
		fe.mu.Lock()
		if fe.cancel != nil {
			c.log.Info("FE left discovery: stopping its poller, keeping its cursor", "fe", host, "forget_after", c.cfg.ForgetFEAfter)
			fe.cancel()
			done := fe.done
			fe.cancel, fe.done = nil, nil
			fe.mu.Unlock()
			<-done
			fe.mu.Lock()
		}
		// Its queries still waiting for a profile are written without one: an FE that left a
		// successful discovery answer is gone (a deleted pod), and so are its in-memory profiles;
		// keeping them waiting would keep the queries out of the lake for good.
		if waiting := fe.resume; len(waiting) > 0 {
			fe.resume = nil
			fe.mu.Unlock()
			c.log.Warn("FE left discovery with profile fetches pending: their queries are written without a profile",
				"fe", host, "queries", len(waiting))
			for _, it := range waiting {
				c.budget.add(it.bytes) // complete releases it
				c.complete(it, "", "fe_gone")
			}
			fe.mu.Lock()
		}
		if !fe.lastSeen.IsZero() && now.Sub(fe.lastSeen) > c.cfg.ForgetFEAfter {
			c.log.Info("forgetting cursor of FE gone too long", "fe", host, "last_seen", fe.lastSeen)
			delete(c.fes, host)
			c.m.cursorLag.DeleteLabelValues(host)
		} else if fe.lastSeen.IsZero() {
			fe.lastSeen = now // known from the checkpoint only: start its hour now
		}
		fe.mu.Unlock()
	}
	n := 0
	for _, fe := range c.fes {
		if fe.cancel != nil {
			n++
		}
	}
	c.m.fesActive.Set(float64(n))
}

// startFE must be called with fe.mu held.
func (c *Collector) startFE(ctx context.Context, fe *feState) {
	fe.client = &feClient{base: fe.target.base, host: fe.target.host, user: c.cfg.User, password: c.cfg.Password,
		auth: basicAuth(c.cfg.User, c.cfg.Password), http: c.httpc, maxDetail: c.cfg.MaxDetailBytes, maxProf: c.cfg.MaxProfileBytes, api: c.cfg.API}
	running, _ := lru.New[string, *QueryDetail](max(1024, c.cfg.DedupSize/4))
	fe.running = running
	fctx, cancel := context.WithCancel(ctx)
	fe.cancel, fe.done = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		c.runFE(fctx, fe)
	}(fe.done)
}

func (c *Collector) stopAllFEs() {
	c.mu.Lock()
	var dones []chan struct{}
	for _, fe := range c.fes {
		fe.mu.Lock()
		if fe.cancel != nil {
			fe.cancel()
			dones = append(dones, fe.done)
			fe.cancel, fe.done = nil, nil
		}
		fe.mu.Unlock()
	}
	c.mu.Unlock()
	for _, d := range dones {
		<-d
	}
}

// checkpointState snapshots every FE's durable cursor.
func (c *Collector) checkpointState() checkpoint {
	cp := checkpoint{Version: 1, Cluster: c.cfg.Cluster, FEs: map[string]feCheckpoint{},
		Journal: &journalPos{ID: c.j.id, Through: c.j.through()}}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for host, fe := range c.fes {
		fe.mu.Lock()
		cur, above := fe.tracker.durableWithIDs()
		for id := range fe.carried {
			if len(above) >= maxAboveIDs {
				break
			}
			above = append(above, id)
		}
		cp.FEs[host] = feCheckpoint{Cursor: cur, JournalCursor: fe.polled.durable(), PolledTo: fe.polledTo,
			LastPoll: fe.lastPoll, LastSeen: fe.lastSeen, WrittenAbove: above}
		fe.mu.Unlock()
		if cur > 0 {
			c.m.cursorLag.WithLabelValues(host).Set(now.Sub(time.UnixMilli(cur / 1_000_000)).Seconds())
		}
	}
	return cp
}

// Stats are running totals for progress reports; read them with Snapshot.
type Stats struct {
	RecordsWritten, ObjectsWritten, RecordsSpilled, ProfilesMissing atomic.Int64
}

// StatsSnapshot is a copy of Stats.
type StatsSnapshot struct {
	RecordsWritten, ObjectsWritten, RecordsSpilled, ProfilesMissing int64
	BufferedBytes                                                   int64
}

// Stats returns the running totals.
func (c *Collector) Stats() StatsSnapshot {
	return StatsSnapshot{
		RecordsWritten: c.stats.RecordsWritten.Load(), ObjectsWritten: c.stats.ObjectsWritten.Load(),
		RecordsSpilled: c.stats.RecordsSpilled.Load(), ProfilesMissing: c.stats.ProfilesMissing.Load(),
		BufferedBytes: c.budget.used.Load(),
	}
}

// budget bounds the bytes held for records that are not durable yet.
type budget struct {
	max  int64
	used atomic.Int64
}

func (b *budget) add(n int64)     { b.used.Add(n) }
func (b *budget) release(n int64) { b.used.Add(-n) }
func (b *budget) full() bool      { return b.used.Load() >= b.max }

// waitRoom blocks while the budget is full, polling it; false when ctx ends first.
func (b *budget) waitRoom(ctx context.Context) bool {
	for b.full() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}
