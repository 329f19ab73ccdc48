package harness

import (
	"cmp"
	"context"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// LogReader is where replay finds logged executions (a source.Set: files, buckets, Iceberg).
type LogReader interface {
	ReadProxyLogs(ctx context.Context, opts proxylog.Options, process func(worker int, b *proxylog.Batch) error) (proxylog.Stats, error)
}

// RecordReader is where replay finds srctl collect's records (a source.Set of profiles).
type RecordReader interface {
	ReadProfiles(ctx context.Context, fn func(rec *lakehouse.ProfileRecord, err error) error) error
}

// Selection says which logged executions to replay.
type Selection struct {
	Rules       *fingerprint.Rules
	Endpoints   []string // only these (names as diff prints them, fp:<id> included); empty: all
	PerEndpoint int      // distinct SQL texts per endpoint
	Window      lakehouse.Window
	Workers     int
	// Cluster is, for SelectFromRecords, the --cluster name of the primary's records.
	Cluster string
}

// SelectStats count what the selection read and kept.
type SelectStats struct {
	Rows       int64 `json:"rows"`
	Candidates int64 `json:"candidate_rows"` // successful primary query rows in the window
	Endpoints  int   `json:"endpoints"`
	Selected   int   `json:"selected"`
	// TooLong counts candidate rows whose SQL text is over 256 KiB: not kept, not replayed.
	TooLong  int64 `json:"too_long"`
	BadLines int64 `json:"bad_lines"`
}

// maxCandidates and maxCandidateBytes bound the distinct texts remembered per endpoint: those
// with the smallest hash of their text, so that the sample is the same whatever order the rows
// come in. Texts are a client's: maxCandidateSQL skips the longest (they are counted), so that
// unique giant statements cannot make the selection hold gigabytes.
const (
	maxCandidates     = 4096
	maxCandidateBytes = 64 << 20
	maxCandidateSQL   = 256 << 10
)

// candidateSet is one endpoint's remembered texts and their total size.
type candidateSet struct {
	texts map[string]candidate
	bytes int
}

// consider classifies a successful primary execution and offers it to its endpoint's set,
// counting it (and texts too long to keep) in st.
func consider(byEP map[string]*candidateSet, st *SelectStats, want map[string]bool, rules *fingerprint.Rules, c candidate) {
	ep, ok := fingerprint.TrailingEndpoint(c.sql)
	if !ok {
		ep = rules.Classify(c.sql).Endpoint
	}
	if len(want) > 0 && !want[ep] {
		return
	}
	st.Candidates++
	if len(c.sql) > maxCandidateSQL {
		st.TooLong++
		return
	}
	h := fnv.New64a()
	h.Write([]byte(c.sql))
	c.hash = h.Sum64()
	offer(byEP, ep, c)
}

// offer remembers c under endpoint ep (the earliest row of a text wins; the text is copied
// when it is first kept, so c.sql may be a view of a reused buffer), pruning the endpoint's
// set when it doubles its bounds.
func offer(byEP map[string]*candidateSet, ep string, c candidate) {
	set := byEP[ep]
	if set == nil {
		set = &candidateSet{texts: map[string]candidate{}}
		byEP[strings.Clone(ep)] = set
	}
	old, ok := set.texts[c.sql]
	switch {
	case !ok:
		c.sql = strings.Clone(c.sql)
		set.bytes += len(c.sql)
	case c.ts >= old.ts:
		return
	default:
		c.sql = old.sql
	}
	set.texts[c.sql] = c
	if len(set.texts) > 2*maxCandidates || set.bytes > 2*maxCandidateBytes {
		set.prune()
	}
}

type candidate struct {
	hash  uint64
	ts    int64
	sql   string
	ms    float64
	bytes int64
}

// SelectQueries reads the logs and picks, per endpoint, up to PerEndpoint distinct SQL texts
// (real parameter sets) spread over the latency range the primary logged: evenly spaced by
// latency rank, the fastest and the slowest included, and the text with the largest result
// in place of its nearest neighbour when it was not picked.
func SelectQueries(ctx context.Context, logs LogReader, sel Selection) ([]ReplayQuery, SelectStats, error) {
	var st SelectStats
	want := map[string]bool{}
	for _, e := range sel.Endpoints {
		want[e] = true
	}
	workers := max(1, sel.Workers)
	per := make([]map[string]*candidateSet, workers)
	counts := make([]SelectStats, workers) // each worker its own: no lock per row
	rs, err := logs.ReadProxyLogs(ctx, proxylog.Options{Workers: workers}, func(wi int, b *proxylog.Batch) error {
		m := per[wi]
		if m == nil {
			m = map[string]*candidateSet{}
			per[wi] = m
		}
		for i := range b.Rows {
			r := &b.Rows[i]
			if r.Target != proxylog.Primary || len(r.QueryText) == 0 || !r.Success || r.Has&proxylog.HasErrorCode != 0 && r.ErrorCode != 0 {
				continue
			}
			if c := string(r.Command); c != "COM_QUERY" && c != "COM_STMT_EXECUTE" {
				continue
			}
			if (!sel.Window.Since.IsZero() && r.TS < sel.Window.Since.UnixNano()) || (!sel.Window.Until.IsZero() && r.TS > sel.Window.Until.UnixNano()) {
				continue
			}
			// A view of the batch's buffer: offer copies the text only when it keeps it.
			text := unsafe.String(&r.QueryText[0], len(r.QueryText))
			if r.TextEscaped {
				text = string(proxylog.Unescape(r.QueryText))
			}
			c := candidate{ts: r.TS, sql: text, ms: r.DurationMS, bytes: r.BytesRecv}
			if r.Has&proxylog.HasServerMS != 0 {
				c.ms = r.ServerMS
			}
			consider(m, &counts[wi], want, sel.Rules, c)
		}
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	st.Rows, st.BadLines = rs.Rows, rs.Quality.Total()
	merged := map[string]*candidateSet{}
	for wi, m := range per {
		st.Candidates += counts[wi].Candidates
		st.TooLong += counts[wi].TooLong
		for ep, set := range m {
			for _, c := range set.texts {
				offer(merged, ep, c)
			}
		}
	}
	out := pickAll(merged, sel.PerEndpoint)
	st.Endpoints, st.Selected = len(merged), len(out)
	return out, st, nil
}

// SelectFromRecords is SelectQueries over srctl collect's records: the FINISHED queries of
// sel.Cluster (the FE's own duration; no result size in these records).
func SelectFromRecords(ctx context.Context, recs RecordReader, sel Selection) ([]ReplayQuery, SelectStats, error) {
	var st SelectStats
	want := map[string]bool{}
	for _, e := range sel.Endpoints {
		want[e] = true
	}
	byEP := map[string]*candidateSet{}
	err := recs.ReadProfiles(ctx, func(rec *lakehouse.ProfileRecord, err error) error {
		st.Rows++
		if err != nil {
			st.BadLines++
			return nil
		}
		if rec.Cluster != sel.Cluster || rec.State != "FINISHED" || strings.TrimSpace(rec.SQLText) == "" {
			return nil
		}
		at := rec.PartitionTime()
		if (!sel.Window.Since.IsZero() && at.Before(sel.Window.Since)) || (!sel.Window.Until.IsZero() && at.After(sel.Window.Until)) {
			return nil
		}
		consider(byEP, &st, want, sel.Rules, candidate{ts: at.UnixNano(), sql: rec.SQLText, ms: rec.DurationMS})
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	out := pickAll(byEP, sel.PerEndpoint)
	st.Endpoints, st.Selected = len(byEP), len(out)
	return out, st, nil
}

// pickAll picks each endpoint's queries, endpoints in name order.
func pickAll(byEP map[string]*candidateSet, per int) []ReplayQuery {
	var out []ReplayQuery
	for _, ep := range slices.Sorted(func(yield func(string) bool) {
		for k := range byEP {
			if !yield(k) {
				return
			}
		}
	}) {
		set := byEP[ep]
		set.prune()
		for _, c := range pick(set.texts, max(1, per)) {
			out = append(out, ReplayQuery{Endpoint: ep, SQL: c.sql, LoggedMS: c.ms, LoggedBytes: c.bytes})
		}
	}
	return out
}

// prune keeps the texts with the smallest hashes, at most maxCandidates of them and
// maxCandidateBytes in all.
func (set *candidateSet) prune() {
	if len(set.texts) <= maxCandidates && set.bytes <= maxCandidateBytes {
		return
	}
	cs := make([]candidate, 0, len(set.texts))
	for _, c := range set.texts {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b candidate) int { return cmp.Compare(a.hash, b.hash) })
	set.texts, set.bytes = map[string]candidate{}, 0
	for _, c := range cs {
		if len(set.texts) == maxCandidates || set.bytes+len(c.sql) > maxCandidateBytes {
			break
		}
		set.texts[c.sql] = c
		set.bytes += len(c.sql)
	}
}

// pick chooses k candidates spread over the latency range (ties by text, for determinism).
func pick(texts map[string]candidate, k int) []candidate {
	cs := make([]candidate, 0, len(texts))
	for _, c := range texts {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b candidate) int { return cmp.Or(cmp.Compare(a.ms, b.ms), strings.Compare(a.sql, b.sql)) })
	if len(cs) <= k {
		return cs
	}
	idx := make([]int, k)
	for j := range k {
		idx[j] = int(math.Round(float64(j) * float64(len(cs)-1) / float64(max(k-1, 1))))
	}
	biggest := 0
	for i, c := range cs {
		if c.bytes > cs[biggest].bytes {
			biggest = i
		}
	}
	if !slices.Contains(idx, biggest) && k > 2 {
		// Replace the nearest pick that is neither the fastest nor the slowest.
		best := 1
		for j := 1; j < k-1; j++ {
			if abs(idx[j]-biggest) < abs(idx[best]-biggest) {
				best = j
			}
		}
		idx[best] = biggest
		slices.Sort(idx)
	}
	out := make([]candidate, 0, k)
	for _, i := range idx {
		out = append(out, cs[i])
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
