package collector

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	profilepkg "github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/lakehouse"
)

// item is one terminal entry on its way to becoming a record. Its detail is in the journal
// before it is queued, so a crash loses nothing that waits here.
type item struct {
	fe       *feState
	detail   QueryDetail
	bytes    int64     // accounted in the budget
	endedAt  time.Time // the query's end on the local clock (FE clock corrected by the poll)
	nextAt   time.Time // next profile attempt
	deadline time.Time // give up on a missing profile after this
	attempts int
	// cold: the last attempt was a 404. Cold items wait behind first attempts and 5xx retries:
	// a profile that is not there yet is less urgent than one that is about to be evicted.
	cold bool
	// notFoundStreak counts consecutive 404s.
	notFoundStreak int
}

// profileDelay is how long after a query's end its profile is usually ready (StarRocks builds
// it asynchronously): the first attempt waits for it instead of earning a certain 404.
const profileDelay = time.Second

// runFE is one FE's worker: a poll loop feeding a profile-fetch queue served by MaxFetches
// workers. When ctx ends, items still queued stay in the journal (and in fe.resume, for an FE
// that comes back while the process runs): a restart fetches them again.
func (c *Collector) runFE(ctx context.Context, fe *feState) {
	q := newFetchQueue()
	fe.mu.Lock()
	resume := fe.resume
	fe.resume = nil
	fe.mu.Unlock()
	now := time.Now()
	for _, it := range resume {
		it.fe = fe
		c.budget.add(it.bytes) // released when complete, or when drained again below
		q.push(it, later(now, it.nextAt))
	}
	work := make(chan *item)
	var wg sync.WaitGroup
	for range c.cfg.MaxFetches {
		wg.Go(func() { c.fetchWorker(ctx, fe, q, work) })
	}
	wg.Go(func() { q.dispatch(ctx, work) })
	c.pollLoop(ctx, fe, q)
	wg.Wait()
	left := q.drain()
	for _, it := range left {
		c.budget.release(it.bytes)
	}
	fe.mu.Lock()
	fe.resume = append(fe.resume, left...)
	fe.mu.Unlock()
}

func (c *Collector) pollLoop(ctx context.Context, fe *feState, q *fetchQueue) {
	host := fe.target.host
	cursor := fe.polled.durable()
	backoff := time.Duration(0)
	lastOK := time.Now() // the start of a good poll; a run's first has no more time than any other
	paused := false
	for {
		if !c.budget.full() {
			paused = false
		} else {
			if !paused {
				c.m.pollPauses.Inc()
				c.log.Warn("buffer full: pausing polls until profiles are fetched", "fe", host, "max_buffered_bytes", c.cfg.MaxBufferedBytes)
				paused = true
			}
			if !c.budget.waitRoom(ctx) {
				return
			}
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		asked := time.Now()
		entries, feNow, err := fe.client.queryDetails(pctx, cursor)
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := c.pollWait(fe)
		if err != nil {
			c.m.polls.WithLabelValues(host, "error").Inc()
			c.m.feErrors.WithLabelValues(host, errorKind(err)).Inc()
			backoff = nextBackoff(backoff, 500*time.Millisecond, min(c.cfg.PollInterval, 5*time.Second))
			wait = c.pollRetryWait(fe, backoff, time.Since(lastOK))
			c.log.Warn("polling FE failed", "fe", host, "cursor", cursor, "retry_in", wait, "err", err)
		} else {
			// What the FE answered may be as old as the request: the next poll is timed from it, so
			// that a slow answer (a stalled FE) does not stretch the time until the next by its own.
			backoff, lastOK = 0, asked
			wait = max(wait-time.Since(asked), minPollInterval)
			c.m.polls.WithLabelValues(host, "ok").Inc()
			cursor = c.process(fe, q, cursor, entries, feNow)
			c.lastPollOK.Store(time.Now().UnixNano())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// pollWait adapts the poll interval to the FE: a profile lives about lifetime (profiles kept /
// queries finishing per second), and a query is seen at the next poll plus the fetchers' lag,
// so that sum stays under half the lifetime. --poll-interval is the upper bound.
func (c *Collector) pollWait(fe *feState) time.Duration {
	life, lag := fe.lifetimeAndLag()
	return max(min(c.cfg.PollInterval, life/2-lag-profileDelay), minPollInterval)
}

// pollRetryWait is the wait after a failed poll, sinceOK after the last good one. The queries
// that ended since that poll are not known yet, and the first of them loses its profile about
// lifetime - lag - profileDelay after it. Until then the retries are spaced to fit several in the
// time left (at most a third of it, never under minPollInterval), so that a streak of transient
// errors does not outlast the profiles: the exponential backoff alone took 0.5+1+2+4 s after
// four errors, longer than the 8 s a default FE keeps profiles at 60 queries/s. Once that time
// has passed, or when the FE keeps its profiles long, the backoff alone applies, so that an FE
// that is down is not polled in a tight loop.
func (c *Collector) pollRetryWait(fe *feState, backoff, sinceOK time.Duration) time.Duration {
	life, lag := fe.lifetimeAndLag()
	left := life - lag - profileDelay - sinceOK
	if left <= 0 {
		return backoff
	}
	return max(min(backoff, left/3), minPollInterval)
}

// minPollInterval keeps a very busy FE from being polled in a tight loop.
const minPollInterval = 250 * time.Millisecond

// process handles one successful poll and returns the new poll cursor.
func (c *Collector) process(fe *feState, q *fetchQueue, cursor int64, entries []QueryDetail, feNow time.Time) int64 {
	host := fe.target.host
	now := time.Now()
	if feNow.IsZero() {
		feNow = now
	}
	// A cursor ahead of the FE's own clock means the clock went back (or had jumped forward):
	// new entries would sort below the cursor and never be returned. Re-read the whole cache;
	// the dedup cache drops what was already collected.
	if cursor > 0 && cursor/1_000_000 > feNow.UnixMilli()+5000 {
		rewound := feNow.Add(-c.cfg.Retention-5*time.Second).UnixMilli() * 1_000_000
		c.m.clockJumps.WithLabelValues(host).Inc()
		c.log.Warn("FE clock is behind the cursor: re-reading its cache", "fe", host,
			"cursor_time", time.UnixMilli(cursor/1_000_000).UTC(), "fe_clock", feNow.UTC())
		fe.tracker.rewind(rewound)
		fe.polled.rewind(rewound)
		fe.mu.Lock()
		fe.polledTo = feNow // the whole cache is read again: nothing before now is a gap
		fe.mu.Unlock()
		return rewound
	}
	c.checkGap(fe, cursor, entries, feNow)
	skew := now.Sub(feNow) // local minus FE clock, to place the FE's end times on our clock
	maxET := cursor
	fresh := 0
	for i := range entries {
		d := &entries[i]
		maxET = max(maxET, d.EventTime)
		c.m.entries.WithLabelValues(host, d.State).Inc()
		if !d.Terminal() {
			running := *d // a copy: a pointer into entries would pin the whole poll's slice
			fe.running.Add(d.QueryID, &running)
			continue
		}
		if at, ok := c.dedup.Peek(d.QueryID); ok && now.Sub(at) < c.cfg.DedupTTL {
			c.m.duplicates.WithLabelValues(host).Inc()
			if fe.takeCarried(d.QueryID) {
				fe.tracker.done(d.EventTime, d.QueryID) // written by an earlier run: still above the cursor
			}
			continue
		}
		c.dedup.Add(d.QueryID, now)
		if r, ok := fe.running.Peek(d.QueryID); ok {
			d.mergeRunning(r)
			fe.running.Remove(d.QueryID)
		}
		fresh++
		it := &item{fe: fe, detail: *d, bytes: int64(len(d.SQL)+len(d.Explain)) + 1024, endedAt: endedAt(d, skew, now)}
		fe.tracker.add(d.EventTime)
		fe.polled.add(d.EventTime)
		et := d.EventTime
		if err := c.j.appendDetail(host, &it.detail, func() { fe.polled.done(et, "") }); err != nil {
			// Not journaled: the poll cursor stays below it (a restart polls it again) and the
			// fetch goes ahead; the record is journaled when complete, or the error repeats.
			c.log.Error("journal append failed", "fe", host, "query_id", d.QueryID, "err", err)
		} else {
			c.m.journaled.WithLabelValues(host, "detail").Inc()
		}
		c.budget.add(it.bytes)
		q.push(it, later(now, it.endedAt.Add(profileDelay)))
	}
	fe.dropCarried()
	fe.tracker.seen(maxET)
	fe.polled.seen(maxET)
	fe.observe(now, fresh, c.cfg.ProfilesKept, finishRateOf(entries))
	life, lag := fe.lifetimeAndLag()
	c.m.profileLifetime.WithLabelValues(host).Set(life.Seconds())
	c.m.fetchLag.WithLabelValues(host).Set(lag.Seconds())
	// The FE's clock at this poll: once every entry polled so far is journaled, nothing before
	// it can be lost, which is what gap detection after a restart needs to know.
	c.j.afterSync(func() {
		fe.mu.Lock()
		if feNow.After(fe.polledTo) {
			fe.polledTo = feNow
		}
		fe.mu.Unlock()
	})
	if cur := fe.polled.durable(); cur > 0 {
		c.m.cursorLag.WithLabelValues(host).Set(now.Sub(time.UnixMilli(cur / 1_000_000)).Seconds())
	}
	return maxET
}

// finishRateOf is how many queries per second a poll's entries show ending: terminal entries
// over the span of their event times, 0 when fewer than minRateSample of them (or less than a
// second) cannot tell a pace from a burst. It seeds a run's first lifetime estimate: the first
// poll after a restart returns every query since the durable cursor, a sample of the FE's pace.
func finishRateOf(entries []QueryDetail) float64 {
	n, lo, hi := 0, int64(math.MaxInt64), int64(math.MinInt64)
	for i := range entries {
		if d := &entries[i]; d.Terminal() {
			n++
			lo, hi = min(lo, d.EventTime), max(hi, d.EventTime)
		}
	}
	if n < minRateSample {
		return 0
	}
	span := time.Duration(hi - lo).Seconds()
	if span < 1 {
		return 0
	}
	return float64(n-1) / span
}

// minRateSample is the fewest terminal entries a poll needs to seed the finish rate.
const minRateSample = 20

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// endedAt is when the query ended, on the local clock.
func endedAt(d *QueryDetail, skew time.Duration, now time.Time) time.Time {
	ms := d.EventTime / 1_000_000
	if d.EndTime != nil && *d.EndTime > 0 {
		ms = *d.EndTime
	}
	if ms <= 0 {
		return now
	}
	return earlier(time.UnixMilli(ms).Add(skew), now)
}

// checkGap reports a possible gap: the FE keeps query details for Retention, and part of the
// time since the horizon (the later of the cursor and the FE clock at the last poll whose entries
// were all journaled) is now older than that, with no entry returned from it. Entries there,
// if there were any, are gone. The window is logged, counted and written as a GAP record.
func (c *Collector) checkGap(fe *feState, cursor int64, entries []QueryDetail, feNow time.Time) {
	fe.mu.Lock()
	horizon := fe.polledTo
	fe.mu.Unlock()
	if cursor > 0 {
		horizon = later(horizon, time.Unix(0, cursor))
	}
	if horizon.IsZero() {
		return // a new FE: its whole cache is read, nothing was promised before it
	}
	// feNow comes from the Date header, whole seconds: the FE's clock may be up to a second
	// later, and so may what it has evicted.
	evictedTo := feNow.Add(time.Second - c.cfg.Retention)
	if !evictedTo.After(horizon.Add(time.Second)) {
		return
	}
	to := evictedTo
	for i := range entries {
		if et := time.Unix(0, entries[i].EventTime); et.After(horizon) {
			to = earlier(to, et)
			break
		}
	}
	if !to.After(horizon.Add(time.Second)) {
		return // the FE still returned entries from just after the horizon
	}
	host := fe.target.host
	c.m.gaps.WithLabelValues(host).Inc()
	c.log.Warn("possible gap: the FE no longer holds the query details of a window that was never polled; queries in it may be lost",
		"fe", host, "from", horizon.UTC(), "to", to.UTC(), "retention", c.cfg.Retention)
	c.recordGap(fe, horizon, to)
}

// recordGap writes a record of a possible gap, so that readers of the lake can see the window.
func (c *Collector) recordGap(fe *feState, from, to time.Time) {
	rec := gapRecord(c.cfg.Cluster, fe.target.host, from, to, time.Now())
	if err := c.j.appendRecord(fe.target.host, rec, func(seq int64, loc journalLoc) {
		c.w.submit(&pending{seq: seq, loc: loc, fe: fe.target.host, queryID: rec.QueryID, bytes: int64(loc.n)})
	}); err != nil {
		c.log.Error("journal append failed: the gap record is not written", "fe", fe.target.host, "err", err)
	}
}

func (c *Collector) fetchWorker(ctx context.Context, fe *feState, q *fetchQueue, work <-chan *item) {
	host := fe.target.host
	for {
		var it *item
		select {
		case <-ctx.Done():
			return
		case it = <-work:
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		started := time.Now()
		if it.attempts == 0 {
			fe.lagged(started.Sub(it.nextAt))
		}
		text, release, err := fe.client.profile(pctx, it.detail.QueryID)
		cancel()
		if ctx.Err() != nil {
			release()
			q.push(it, it.nextAt) // kept for fe.resume
			return
		}
		it.attempts++
		if err == nil || !errors.Is(err, ErrProfileNotFound) {
			it.notFoundStreak = 0
		}
		if it.attempts == 1 {
			// The wait for an asynchronous profile counts from the first attempt, not from the
			// poll: time spent queued behind busy fetchers must not use it up.
			it.deadline = time.Now().Add(c.cfg.ProfileRetryFor)
		}
		// A query that did not finish gets one attempt: a FAILED query that died in analysis
		// has no profile at all, and its record must not wait for one.
		finished := it.detail.State == "FINISHED"
		life, _ := fe.lifetimeAndLag()
		age := time.Since(it.endedAt)
		status := "ok"
		switch {
		case err == nil:
			c.m.profileFetches.WithLabelValues(host, "ok").Inc()
		case errors.Is(err, ErrProfileNotFound):
			c.m.profileFetches.WithLabelValues(host, "not_found").Inc()
			it.notFoundStreak++
			switch {
			case !finished:
				status = "not_found"
			case age > life+profileDelay && it.notFoundStreak >= 2:
				// Older than the FE keeps profiles at its current rate, and twice not found (one
				// 404 can be spurious): it was there and is gone. Retrying cannot bring it back.
				status = "evicted"
			case time.Now().Before(it.deadline) || it.notFoundStreak < 2:
				// A lone 404 after a transient error can be spurious (a proxy sending the
				// request to another FE), and a slow FE builds profiles late: try again.
				it.cold = true
				release()
				q.push(it, time.Now().Add(retryDelay(it.attempts)))
				continue
			default:
				status = "not_found"
			}
		case errors.Is(err, ErrUnauthorized):
			c.m.profileFetches.WithLabelValues(host, "unauthorized").Inc()
			status = "unauthorized"
			c.log.Warn("FE refused a profile", "fe", host, "query_id", it.detail.QueryID, "err", err)
		case errors.Is(err, ErrBodyTooLarge):
			c.m.profileFetches.WithLabelValues(host, "too_large").Inc()
			status = "too_large"
			c.log.Warn("profile over --max-profile-bytes: record written without it", "fe", host, "query_id", it.detail.QueryID, "limit", c.cfg.MaxProfileBytes)
		default:
			c.m.profileFetches.WithLabelValues(host, "error").Inc()
			c.m.feErrors.WithLabelValues(host, errorKind(err)).Inc()
			// Transient (5xx, reset, truncated, timeout): the profile may well be there, so
			// these retry first in line, with twice the 404 budget and at least five attempts.
			if finished && (time.Now().Before(it.deadline.Add(c.cfg.ProfileRetryFor)) || it.attempts < 5) {
				it.cold = false
				release()
				q.push(it, time.Now().Add(retryDelay(it.attempts)))
				continue
			}
			status = "error"
			c.log.Warn("giving up on a profile after errors", "fe", host, "query_id", it.detail.QueryID,
				"attempts", it.attempts, "not_found_streak", it.notFoundStreak, "err", err)
		}
		c.complete(it, text, status)
		release() // complete journaled the text (or copied it): the buffer may be reused
	}
}

// complete turns an item into a record and journals it; the writer uploads it from there.
func (c *Collector) complete(it *item, profile, status string) {
	host := it.fe.target.host
	rec := buildRecord(&it.detail, c.cfg.Cluster, host, c.cfg.EndpointRules, time.Now())
	rec.ProfileText, rec.ProfileStatus, rec.ProfileBytes = profile, status, len(profile)
	if profile != "" && c.cfg.ProfileMetrics {
		m := profilepkg.ScanHeadlines(profile) // the single-pass scanner: this runs on every profile
		rec.Metrics = &m
	}
	c.m.profiles.WithLabelValues(host, status).Inc()
	if status != "ok" {
		c.stats.ProfilesMissing.Add(1)
	}
	tracker, et, id := it.fe.tracker, it.detail.EventTime, it.detail.QueryID
	err := c.j.appendRecord(host, rec, func(seq int64, loc journalLoc) {
		c.w.submit(&pending{seq: seq, loc: loc, tracker: tracker, eventTime: et, fe: host, queryID: id, bytes: int64(loc.n)})
	})
	if err != nil {
		// The journal cannot take it: hand the record to the writer directly, held in memory,
		// in its own copy (the profile text and the operator names in its metrics point into a
		// fetch buffer that goes back to the pool).
		rec = ownRecord(rec)
		c.log.Error("journal append failed: record kept in memory until written", "fe", host, "query_id", id, "err", err)
		c.budget.add(int64(len(profile)))
		c.w.submit(&pending{rec: rec, tracker: tracker, eventTime: et, fe: host, queryID: id, bytes: it.bytes + int64(len(profile)), inMemory: true})
		return
	}
	c.m.journaled.WithLabelValues(host, "record").Inc()
	c.budget.release(it.bytes)
}

// ownRecord copies what of rec may point into a lent fetch buffer: the profile text and the
// operator names its metrics took from it.
func ownRecord(rec *lakehouse.ProfileRecord) *lakehouse.ProfileRecord {
	out := *rec
	out.ProfileText = strings.Clone(rec.ProfileText)
	if rec.Metrics != nil {
		m := *rec.Metrics
		m.State = strings.Clone(m.State)
		m.TopOperators = slices.Clone(m.TopOperators)
		for i := range m.TopOperators {
			m.TopOperators[i].Name = strings.Clone(m.TopOperators[i].Name)
		}
		out.Metrics = &m
	}
	return &out
}

// pending is a record waiting in the writer: in the journal at loc (rec nil), or, when the journal
// failed or for spill replays, in memory.
type pending struct {
	rec       *lakehouse.ProfileRecord
	line      []byte // the record's JSON and newline read back from the journal (JSONL sinks; see load)
	seq       int64  // journal sequence number; 0 for records not from the journal
	loc       journalLoc
	tracker   *cursorTracker
	eventTime int64
	fe        string
	queryID   string
	bytes     int64
	inMemory  bool // bytes are accounted in the budget
}

// partition is the hour the record is filed under.
func (p *pending) partition() time.Time {
	if p.rec == nil {
		return time.Unix(p.loc.part, 0).UTC()
	}
	return p.rec.PartitionTime().UTC().Truncate(time.Hour)
}

// retryDelay paces profile retries: 200ms, 400ms, 800ms, then every second. The cap stays well
// under the life of a profile in a busy FE's FIFO (500 profiles: 2.5 s at 200 queries/s).
func retryDelay(attempt int) time.Duration {
	return min(200*time.Millisecond<<min(attempt-1, 3), time.Second)
}

func nextBackoff(cur, first, limit time.Duration) time.Duration {
	if cur == 0 {
		return first
	}
	return min(cur*2, limit)
}

func errorKind(err error) string {
	var se *HTTPStatusError
	switch {
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, ErrBodyTooLarge):
		return "too_large"
	case errors.As(err, &se):
		if se.Status >= 500 {
			return "http_5xx"
		}
		return "http_4xx"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrMalformedBody):
		return "decode"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	}
	return "transport"
}

// fetchQueue orders items by their next attempt; due first attempts and 5xx retries (hot) go
// before due 404 retries (cold).
type fetchQueue struct {
	mu        sync.Mutex
	hot, cold itemHeap
	wake      chan struct{}
}

func newFetchQueue() *fetchQueue { return &fetchQueue{wake: make(chan struct{}, 1)} }

func (q *fetchQueue) push(it *item, at time.Time) {
	it.nextAt = at
	q.mu.Lock()
	if it.cold {
		heap.Push(&q.cold, it)
	} else {
		heap.Push(&q.hot, it)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next pops a due item, hot before cold, or says how long until one is due.
func (q *fetchQueue) next(now time.Time) (*item, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	wait := time.Hour
	for _, h := range []*itemHeap{&q.hot, &q.cold} {
		if h.Len() == 0 {
			continue
		}
		if d := (*h)[0].nextAt.Sub(now); d <= 0 {
			return heap.Pop(h).(*item), 0
		} else {
			wait = min(wait, d)
		}
	}
	return nil, wait
}

// dispatch hands due items to the workers until ctx ends.
func (q *fetchQueue) dispatch(ctx context.Context, work chan<- *item) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, wait := q.next(time.Now())
		if next != nil {
			select {
			case work <- next:
				continue
			case <-ctx.Done():
				q.push(next, next.nextAt) // keep it for drain
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

func (q *fetchQueue) drain() []*item {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := append([]*item(q.hot), q.cold...)
	q.hot, q.cold = nil, nil
	return out
}

type itemHeap []*item

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].nextAt.Before(h[j].nextAt) }
func (h itemHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)        { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
