package harness

import (
	"cmp"
	"context"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"

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
	BadLines   int64 `json:"bad_lines"`
}

// maxCandidates bounds the distinct texts remembered per endpoint: those with the smallest
// hash of their text, so that the sample is the same whatever order the rows come in.
const maxCandidates = 4096

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
	per := make([]map[string]map[string]candidate, workers)
	var candRows sync.Map
	rs, err := logs.ReadProxyLogs(ctx, proxylog.Options{Workers: workers}, func(wi int, b *proxylog.Batch) error {
		m := per[wi]
		if m == nil {
			m = map[string]map[string]candidate{}
			per[wi] = m
		}
		n := int64(0)
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
			text := string(r.QueryText)
			if r.TextEscaped {
				text = string(proxylog.Unescape(r.QueryText))
			}
			ep, ok := fingerprint.TrailingEndpoint(text)
			if !ok {
				ep = sel.Rules.Classify(text).Endpoint
			}
			if len(want) > 0 && !want[ep] {
				continue
			}
			n++
			h := fnv.New64a()
			h.Write([]byte(text))
			c := candidate{hash: h.Sum64(), ts: r.TS, sql: text, ms: r.DurationMS, bytes: r.BytesRecv}
			if r.Has&proxylog.HasServerMS != 0 {
				c.ms = r.ServerMS
			}
			texts := m[ep]
			if texts == nil {
				texts = map[string]candidate{}
				m[strings.Clone(ep)] = texts
			}
			if old, ok := texts[text]; !ok || c.ts < old.ts {
				texts[text] = c
			}
			if len(texts) > 2*maxCandidates {
				prune(texts)
			}
		}
		v, _ := candRows.LoadOrStore(wi, new(int64))
		*v.(*int64) += n
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	st.Rows, st.BadLines = rs.Rows, rs.Quality.Total()
	candRows.Range(func(_, v any) bool { st.Candidates += *v.(*int64); return true })
	merged := map[string]map[string]candidate{}
	for _, m := range per {
		for ep, texts := range m {
			dst := merged[ep]
			if dst == nil {
				dst = map[string]candidate{}
				merged[ep] = dst
			}
			for t, c := range texts {
				if old, ok := dst[t]; !ok || c.ts < old.ts {
					dst[t] = c
				}
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
	byEP := map[string]map[string]candidate{}
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
		ep, ok := fingerprint.TrailingEndpoint(rec.SQLText)
		if !ok {
			ep = sel.Rules.Classify(rec.SQLText).Endpoint
		}
		if len(want) > 0 && !want[ep] {
			return nil
		}
		st.Candidates++
		h := fnv.New64a()
		h.Write([]byte(rec.SQLText))
		c := candidate{hash: h.Sum64(), ts: at.UnixNano(), sql: rec.SQLText, ms: rec.DurationMS}
		texts := byEP[ep]
		if texts == nil {
			texts = map[string]candidate{}
			byEP[strings.Clone(ep)] = texts
		}
		if old, ok := texts[c.sql]; !ok || c.ts < old.ts {
			texts[c.sql] = c
		}
		if len(texts) > 2*maxCandidates {
			prune(texts)
		}
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
func pickAll(byEP map[string]map[string]candidate, per int) []ReplayQuery {
	var out []ReplayQuery
	for _, ep := range slices.Sorted(func(yield func(string) bool) {
		for k := range byEP {
			if !yield(k) {
				return
			}
		}
	}) {
		texts := byEP[ep]
		prune(texts)
		for _, c := range pick(texts, max(1, per)) {
			out = append(out, ReplayQuery{Endpoint: ep, SQL: c.sql, LoggedMS: c.ms, LoggedBytes: c.bytes})
		}
	}
	return out
}

// prune keeps the maxCandidates texts with the smallest hashes.
func prune(texts map[string]candidate) {
	if len(texts) <= maxCandidates {
		return
	}
	hs := make([]uint64, 0, len(texts))
	for _, c := range texts {
		hs = append(hs, c.hash)
	}
	slices.Sort(hs)
	cut := hs[maxCandidates-1]
	for t, c := range texts {
		if c.hash > cut {
			delete(texts, t)
		}
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
