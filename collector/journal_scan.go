package collector

import (
	"bufio"
	"errors"

	"github.com/srctl/srctl/internal/jsonscan"
)

// journalLine is what recovery takes from a journal line: the header, a detail decoded (its
// profile is fetched again) and of a record only its key. A record's JSON (tens or hundreds of KB
// of profile text) stays in the segment: the writer uploads it from there.
type journalLine struct {
	seq, part int64
	kind, fe  string
	detail    *QueryDetail
	record    bool // a non-null record
	queryID   string
	eventTime int64
	// where the detail's and the record's JSON lie in the line
	detailAt, detailN, recordAt, recordN int
}

// scanJournalLine reads a line as encoding/json would read it into a journalEntry, without
// decoding the record: recovery used to unmarshal every profile text in the journal (200 MB/s on
// this machine's core, a third of a second a full segment) before the restarted collector could
// poll, while the FE evicted the profiles of the queries it had missed. It reports false for a
// line that is not valid JSON or whose known fields have the wrong types (damaged: skipped).
// A journaled detail is a QueryDetail as json.Marshal wrote it, with the keys of the FE's own
// answers: dd, the FE answers' decoder (held to encoding/json by its fuzz test), reads it.
func scanJournalLine(dd *detailDecoder, line []byte) (journalLine, bool) {
	var e journalLine
	r := &dd.r
	r.Reset(line)
	if r.Null() { // encoding/json reads it, as nothing
		return e, r.End() == nil
	}
	err := eachKey(r, func(key []byte) (err error) {
		switch {
		case jsonscan.KeyIs(key, "seq"):
			e.seq, err = nullableInt(r, "seq", e.seq)
		case jsonscan.KeyIs(key, "part"):
			e.part, err = nullableInt(r, "part", e.part)
		case jsonscan.KeyIs(key, "kind"):
			e.kind, err = nullableString(r, "kind", e.kind)
		case jsonscan.KeyIs(key, "fe"):
			e.fe, err = nullableString(r, "fe", e.fe)
		case jsonscan.KeyIs(key, "detail"):
			if r.Null() {
				e.detail = nil
				return nil
			}
			e.detailAt = r.Offset()
			if e.detail == nil {
				e.detail = new(QueryDetail) // a repeated key fills the same detail, as encoding/json does
			}
			err = dd.entry(r, e.detail)
			e.detailN = r.Offset() - e.detailAt
		case jsonscan.KeyIs(key, "record"):
			if r.Null() {
				e.record, e.queryID, e.eventTime = false, "", 0
				return nil
			}
			e.recordAt = r.Offset()
			err = scanRecordKey(r, &e)
			e.record, e.recordN = err == nil, r.Offset()-e.recordAt
		default:
			err = r.Skip()
		}
		return err
	})
	return e, err == nil && r.End() == nil
}

// scanRecordKey reads a ProfileRecord's object for its sr_query_id and event_time, skipping
// (and validating) the rest.
func scanRecordKey(r *jsonscan.Reader, e *journalLine) error {
	return eachKey(r, func(key []byte) (err error) {
		switch {
		case jsonscan.KeyIs(key, "sr_query_id"):
			e.queryID, err = nullableString(r, "sr_query_id", e.queryID)
		case jsonscan.KeyIs(key, "event_time"):
			e.eventTime, err = nullableInt(r, "event_time", e.eventTime)
		default:
			err = r.Skip()
		}
		return err
	})
}

// eachKey reads an object, calling field with each key and the reader at its value, which field
// reads or skips.
func eachKey(r *jsonscan.Reader, field func(key []byte) error) error {
	if err := r.BeginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok := r.NextKey(first)
		if !ok {
			return r.Err()
		}
		if err := field(key); err != nil {
			return err
		}
	}
}

// nullableInt and nullableString read a value as encoding/json does into a Go int64 or
// string: null leaves it as it was.
func nullableInt(r *jsonscan.Reader, field string, was int64) (int64, error) {
	if r.Null() {
		return was, nil
	}
	return r.Int64(field)
}

func nullableString(r *jsonscan.Reader, field string, was string) (string, error) {
	if r.Null() {
		return was, nil
	}
	return r.String(field)
}

// readLine returns the next line with its newline (without one only at the end of the input),
// in the reader's buffer when it fits, else assembled in *long: ReadBytes allocated every line.
func readLine(r *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	*long = append((*long)[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = r.ReadSlice('\n')
		*long = append(*long, line...)
	}
	if cap(*long) > 16<<20 {
		defer func() { *long = nil }() // one huge line does not pin its buffer for the rest
	}
	return *long, err
}
