package shadowproxy

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
)

// Filter reasons written to filter_reason (the first three are the existing proxy's).
const (
	ReasonSQLOperation  = "sql_operation"   // a write without --mirror-writes, or a type excluded by --include/--exclude-types
	ReasonPattern       = "pattern"         // --include-regex did not match or --exclude-regex did
	ReasonSampling      = "sampling"        // not drawn by --sample-rate
	ReasonLoadDataLocal = "load_data_local" // LOAD DATA LOCAL: the file comes from the client once
	ReasonUnclassified  = "unclassified"    // a statement not understood (so possibly a write) without --mirror-writes
)

// Policy decides which commands are mirrored. Session state (SET, USE, COM_INIT_DB,
// transactions, prepares) is always mirrored: without it the shadow would run the next query in
// another session than the client's.
type Policy struct {
	MirrorWrites bool
	IncludeTypes []string // only these statement types (empty: all)
	ExcludeTypes []string
	Include      *regexp.Regexp // only statements matching this
	Exclude      *regexp.Regexp // never statements matching this
	SampleRate   float64        // share of eligible reads and writes mirrored, 0 < r <= 1
}

// Validate checks the statement types and the rate.
func (p *Policy) Validate() error {
	for _, list := range [][]string{p.IncludeTypes, p.ExcludeTypes} {
		for _, t := range list {
			if !slices.Contains(statementTypes, strings.ToLower(t)) {
				return fmt.Errorf("statement type %q: want one of %s", t, strings.Join(statementTypes, ", "))
			}
		}
	}
	if p.SampleRate <= 0 || p.SampleRate > 1 {
		return fmt.Errorf("sample rate %v: want a number in (0, 1]", p.SampleRate)
	}
	return nil
}

// decide returns "" to mirror a statement of type typ and kind, else the filter reason.
func (p *Policy) decide(typ string, kind Kind, text string) string {
	switch kind {
	case KindLocalInfile:
		return ReasonLoadDataLocal
	case KindState:
		return ""
	case KindWrite:
		if !p.MirrorWrites {
			return ReasonSQLOperation
		}
	case KindUnknown:
		if !p.MirrorWrites {
			return ReasonUnclassified
		}
	}
	if len(p.IncludeTypes) > 0 && !containsFold(p.IncludeTypes, typ) || containsFold(p.ExcludeTypes, typ) {
		return ReasonSQLOperation
	}
	if p.Include != nil && !p.Include.MatchString(text) || p.Exclude != nil && p.Exclude.MatchString(text) {
		return ReasonPattern
	}
	if p.SampleRate < 1 && rand.Float64() >= p.SampleRate {
		return ReasonSampling
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
