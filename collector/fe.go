package collector

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	profilepkg "github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/lakehouse"
)

// item is one terminal entry on its way to becoming a durable record.
type item struct {
	fe       *feState
	detail   QueryDetail
	bytes    int64     // accounted in the budget
	nextAt   time.Time // next profile attempt
	deadline time.Time // give up on the profile after this
	attempts int
	// notFoundStreak counts consecutive 404s.
	notFoundStreak int
}

// runFE is one FE's worker: a poll loop feeding a profile-fetch queue served by MaxFetches
// workers. Everything stops when ctx ends; items not yet handed to the writer are abandoned
// (their cursor positions stay pending, so they are polled again after a restart).
func (c *Collector) runFE(ctx context.Context, fe *feState) {
	q := newFetchQueue()
	work := make(chan *item)
	var wg sync.WaitGroup
	for range c.cfg.MaxFetches {
		wg.Go(func() { c.fetchWorker(ctx, fe, q, work) })
	}
	wg.Go(func() { q.dispatch(ctx, work) })
	c.pollLoop(ctx, fe, q)
	wg.Wait()
	for _, it := range q.drain() {
		c.abandon(it)
	}
}

// abandon gives up an item at shutdown: its bytes return to the budget and its query id leaves
// the dedup cache so that a later poll of the same FE collects it again.
func (c *Collector) abandon(it *item) {
	c.budget.release(it.bytes)
	c.dedup.Remove(it.detail.QueryID)
}

func (c *Collector) pollLoop(ctx context.Context, fe *feState, q *fetchQueue) {
	host := fe.target.host
	cursor := fe.tracker.durable()
	backoff := time.Duration(0)
	paused := false
	for {
		if !c.budget.full() {
			paused = false
		} else {
			if !paused {
				c.m.pollPauses.Inc()
				c.log.Warn("buffer full: pausing polls until records are flushed", "fe", host, "max_buffered_bytes", c.cfg.MaxBufferedBytes)
				paused = true
			}
			if !c.budget.waitRoom(ctx) {
				return
			}
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		entries, feNow, err := fe.client.queryDetails(pctx, cursor)
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := c.cfg.PollInterval
		if err != nil {
			c.m.polls.WithLabelValues(host, "error").Inc()
			c.m.feErrors.WithLabelValues(host, errorKind(err)).Inc()
			backoff = nextBackoff(backoff, 500*time.Millisecond, min(c.cfg.PollInterval, 5*time.Second))
			wait = backoff
			c.log.Warn("polling FE failed", "fe", host, "cursor", cursor, "retry_in", wait, "err", err)
		} else {
			backoff = 0
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
		return rewound
	}
	fe.mu.Lock()
	lastPoll := fe.lastPoll
	fe.lastPoll = now
	fe.mu.Unlock()
	if cursor > 0 && !lastPoll.IsZero() && now.Sub(lastPoll) > c.cfg.Retention {
		limit := cursor + c.cfg.Retention.Nanoseconds()
		if len(entries) == 0 || entries[0].EventTime > limit {
			c.m.gaps.WithLabelValues(host).Inc()
			c.log.Warn("possible gap: no poll for longer than the FE keeps query details; queries in between may be lost",
				"fe", host, "last_poll", lastPoll.UTC(), "cursor_time", time.UnixMilli(cursor/1_000_000).UTC(), "retention", c.cfg.Retention)
		}
	}
	maxET := cursor
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
		it := &item{fe: fe, detail: *d, bytes: int64(len(d.SQL)+len(d.Explain)) + 1024}
		fe.tracker.add(d.EventTime)
		c.budget.add(it.bytes)
		q.push(it, now)
	}
	fe.dropCarried()
	fe.tracker.seen(maxET)
	if cur := fe.tracker.durable(); cur > 0 {
		c.m.cursorLag.WithLabelValues(host).Set(now.Sub(time.UnixMilli(cur / 1_000_000)).Seconds())
	}
	return maxET
}

func (c *Collector) fetchWorker(ctx context.Context, fe *feState, q *fetchQueue, work <-chan *item) {
	for {
		var it *item
		select {
		case <-ctx.Done():
			return
		case it = <-work:
		}
		// Profiles are what fills memory: while the writer holds most of the budget, wait for it
		// to drain rather than fetch more. The writer never waits on fetchers, so this cannot
		// deadlock; if sink and spill both fail, this is the back-pressure that bounds memory.
		for w := c.w; w.queuedBytes() >= c.cfg.MaxBufferedBytes*3/4; {
			select {
			case <-ctx.Done():
				c.abandon(it)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		text, err := fe.client.profile(pctx, it.detail.QueryID)
		cancel()
		if ctx.Err() != nil {
			c.abandon(it)
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
		status := "ok"
		switch {
		case err == nil:
			c.m.profileFetches.WithLabelValues("ok").Inc()
		case errors.Is(err, ErrProfileNotFound):
			c.m.profileFetches.WithLabelValues("not_found").Inc()
			it.notFoundStreak++
			// Final only after the retry span, its number of attempts, and two 404s in a row: a
			// lone 404 after a transient error can be spurious (a proxy sending the request to
			// another FE, which has no such profile).
			if time.Now().Before(it.deadline) || it.attempts < c.minAttempts || it.notFoundStreak < 2 {
				q.push(it, time.Now().Add(retryDelay(it.attempts)))
				continue
			}
			status = "not_found"
		case errors.Is(err, ErrUnauthorized):
			c.m.profileFetches.WithLabelValues("unauthorized").Inc()
			status = "unauthorized"
			c.log.Warn("FE refused a profile", "fe", fe.target.host, "query_id", it.detail.QueryID, "err", err)
		case errors.Is(err, ErrBodyTooLarge):
			c.m.profileFetches.WithLabelValues("too_large").Inc()
			status = "too_large"
			c.log.Warn("profile over --max-profile-bytes: record written without it", "fe", fe.target.host, "query_id", it.detail.QueryID, "limit", c.cfg.MaxProfileBytes)
		default:
			c.m.profileFetches.WithLabelValues("error").Inc()
			c.m.feErrors.WithLabelValues(fe.target.host, errorKind(err)).Inc()
			// Transient (5xx, reset, truncated, timeout): the profile may well be there, so
			// these get twice the 404 budget and at least five attempts.
			if time.Now().Before(it.deadline.Add(c.cfg.ProfileRetryFor)) || it.attempts < 5 {
				q.push(it, time.Now().Add(retryDelay(it.attempts)))
				continue
			}
			status = "error"
			c.log.Warn("giving up on a profile after repeated errors", "fe", fe.target.host, "query_id", it.detail.QueryID, "attempts", it.attempts, "err", err)
		}
		c.complete(it, text, status)
	}
}

// complete turns an item into a record and hands it to the writer.
func (c *Collector) complete(it *item, profile, status string) {
	rec := buildRecord(&it.detail, c.cfg.Cluster, it.fe.target.host, c.cfg.EndpointRules, time.Now())
	rec.ProfileText, rec.ProfileStatus, rec.ProfileBytes = profile, status, len(profile)
	if profile != "" && c.cfg.ProfileMetrics {
		m := profilepkg.ScanHeadlines(profile) // the single-pass scanner: this runs on every profile
		rec.Metrics = &m
	}
	c.m.profiles.WithLabelValues(status).Inc()
	if status != "ok" {
		c.stats.ProfilesMissing.Add(1)
	}
	extra := int64(len(profile))
	c.budget.add(extra)
	c.w.submit(&pending{rec: rec, tracker: it.fe.tracker, eventTime: it.detail.EventTime, bytes: it.bytes + extra})
}

// pending is a record waiting in the writer.
type pending struct {
	rec       *lakehouse.ProfileRecord
	tracker   *cursorTracker
	eventTime int64
	bytes     int64
}

// retryDelay paces profile retries: 200ms, 400ms, 800ms, then every second. The cap stays well
// under the life of a profile in a busy FE's FIFO (500 profiles: 2.5 s at 200 queries/s).
func retryDelay(attempt int) time.Duration {
	return min(200*time.Millisecond<<min(attempt-1, 3), time.Second)
}

// attemptsWithin is how many attempts the retry schedule makes in d when nothing delays them.
// A 404 is given up only after d has passed AND that many attempts were made, so a collector
// whose fetchers are backlogged (every attempt late) still tries as often as an idle one.
func attemptsWithin(d time.Duration) int {
	n := 1
	for elapsed := time.Duration(0); ; n++ {
		elapsed += retryDelay(n)
		if elapsed > d {
			return n
		}
	}
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

// fetchQueue orders items by their next attempt time.
type fetchQueue struct {
	mu   sync.Mutex
	h    itemHeap
	wake chan struct{}
}

func newFetchQueue() *fetchQueue { return &fetchQueue{wake: make(chan struct{}, 1)} }

func (q *fetchQueue) push(it *item, at time.Time) {
	it.nextAt = at
	q.mu.Lock()
	heap.Push(&q.h, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// dispatch hands due items to the workers until ctx ends.
func (q *fetchQueue) dispatch(ctx context.Context, work chan<- *item) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.mu.Lock()
		var next *item
		wait := time.Hour
		if q.h.Len() > 0 {
			if d := time.Until(q.h[0].nextAt); d <= 0 {
				next = heap.Pop(&q.h).(*item)
			} else {
				wait = d
			}
		}
		q.mu.Unlock()
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
	out := []*item(q.h)
	q.h = nil
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
