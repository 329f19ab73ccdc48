package proxylog

import (
	"fmt"
	"sort"
)

// Issue kinds: what was wrong with an input, counted in Quality.
const (
	KindSyntax         = "invalid_json"    // truncated line, not JSON, trailing data
	KindUTF8           = "invalid_utf8"    // bytes that are not UTF-8 (the proxy never writes them)
	KindMissingField   = "missing_field"   // a key needed for pairing or latency is absent
	KindBadValue       = "bad_value"       // a key has the wrong type or an impossible value
	KindTooLong        = "line_too_long"   // over Options.MaxLineBytes: skipped without buffering
	KindUnreadable     = "unreadable"      // an object that could not be opened or read to the end
	KindEmptyFile      = "empty_file"      // an object with no rows
	KindEmptyPartition = "empty_partition" // a partition directory with no log files
	KindUnknownField   = "unknown_field"   // a key this version does not know (row still used)
)

// MaxExamples is how many file:line examples Quality keeps per kind.
const MaxExamples = 3

// Issue is one data-quality finding.
type Issue struct {
	Kind string `json:"kind"`
	File string `json:"file"`
	Line int    `json:"line,omitempty"` // 1-based; 0 for whole-file issues
	Msg  string `json:"message"`
}

func (i Issue) String() string {
	if i.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", i.File, i.Line, i.Msg)
	}
	return fmt.Sprintf("%s: %s", i.File, i.Msg)
}

// Quality counts issues by kind and keeps the first examples of each. Not safe for concurrent
// use: each parser keeps its own and they are merged.
type Quality struct {
	Counts   map[string]int64   `json:"counts"`
	Examples map[string][]Issue `json:"examples"`
}

// Add counts one issue.
func (q *Quality) Add(is Issue) {
	if q.Counts == nil {
		q.Counts, q.Examples = map[string]int64{}, map[string][]Issue{}
	}
	q.Counts[is.Kind]++
	q.Examples[is.Kind] = keepFirst(q.Examples[is.Kind], is)
}

// keepFirst adds is to ex and keeps the MaxExamples first by file and line, so which examples
// a report shows does not depend on which parser found them first.
func keepFirst(ex []Issue, is Issue) []Issue {
	ex = append(ex, is)
	sort.Slice(ex, func(i, j int) bool {
		if ex[i].File != ex[j].File {
			return ex[i].File < ex[j].File
		}
		return ex[i].Line < ex[j].Line
	})
	if len(ex) > MaxExamples {
		ex = ex[:MaxExamples]
	}
	return ex
}

// Merge adds o's counts and examples to q.
func (q *Quality) Merge(o Quality) {
	for k, n := range o.Counts {
		if q.Counts == nil {
			q.Counts, q.Examples = map[string]int64{}, map[string][]Issue{}
		}
		q.Counts[k] += n
		for _, ex := range o.Examples[k] {
			q.Examples[k] = keepFirst(q.Examples[k], ex)
		}
	}
}

// Total is the number of issues of kinds that cost a row or a file (unknown fields do not).
func (q *Quality) Total() int64 {
	var n int64
	for k, c := range q.Counts {
		if k != KindUnknownField {
			n += c
		}
	}
	return n
}

// Kinds lists the kinds seen, most frequent first.
func (q *Quality) Kinds() []string {
	ks := make([]string, 0, len(q.Counts))
	for k := range q.Counts {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if q.Counts[ks[i]] != q.Counts[ks[j]] {
			return q.Counts[ks[i]] > q.Counts[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}
