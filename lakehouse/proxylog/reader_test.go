package proxylog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/srctl/srctl/lakehouse"
)

// TestLineNumbersAcrossChunks: in a file cut into many chunks, the line numbers of rows and of
// bad lines are exact in every chunk, whatever order the parsers finish in, and the total is
// every line.
func TestLineNumbersAcrossChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs.jsonl")
	var b strings.Builder
	const n = 3000
	for i := 1; i <= n; i++ {
		switch {
		case i%97 == 0:
			b.WriteString(`{"query_id":"broken` + "\n") // a bad line
		case i%41 == 0:
			b.WriteString("\n") // an empty line: a line, no row
		default:
			fmt.Fprintf(&b, `{"query_id":"q%d","target":"primary","command":"COM_QUERY","duration_ms":1}`+"\n", i)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	obj := lakehouse.Object{Name: path, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }, Size: info.Size()}
	for _, workers := range []int{1, 3} {
		var mu sync.Mutex
		wrong, rows := 0, 0
		st, err := Read(context.Background(), []lakehouse.Object{obj}, Options{Workers: workers, ChunkBytes: 700},
			func(_ int, b *Batch) error {
				mu.Lock()
				defer mu.Unlock()
				for i, r := range b.Rows {
					rows++
					if want := "q" + fmt.Sprint(b.Lines[i]); string(r.QueryID) != want {
						wrong++
						if wrong < 5 {
							t.Errorf("workers %d: row %s reported at line %d", workers, r.QueryID, b.Lines[i])
						}
					}
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines != n {
			t.Errorf("workers %d: %d lines counted, want %d", workers, st.Lines, n)
		}
		bad := st.Quality.Counts[KindSyntax]
		if want := n / 97; bad != int64(want) || rows != n-want-(n/41-n/(41*97)) {
			t.Errorf("workers %d: %d bad lines (want %d), %d rows", workers, bad, want, rows)
		}
		for _, ex := range st.Quality.Examples[KindSyntax] {
			if ex.Line%97 != 0 {
				t.Errorf("workers %d: a bad line reported at line %d, which is a good one", workers, ex.Line)
			}
		}
	}
}

// TestParseChunkMarksAgreeWithByteSearch parses chunks of awkward lines (CRLF endings, blank and
// white-space lines, bad JSON, strings cut at the line's end whose next line holds quotes,
// non-ASCII and control bytes, escapes across 64-byte blocks, a last line without newline, a
// line over the limit) with the structural marks and by searching bytes: the same rows, line
// numbers and issues.
func TestParseChunkMarksAgreeWithByteSearch(t *testing.T) {
	good := func(i int, text string) string {
		return fmt.Sprintf(`{"query_id":"q%d","target":"shadow","command":"COM_QUERY","duration_ms":%d,"query_text":%q}`, i, i, text)
	}
	lines := []string{
		good(1, "SELECT 1"), good(2, `SELECT "x" \ y`) + "\r", "", "   ", `{"query_id":"q3","target":`,
		`{"query_id":"cut`, `"a":"b"}`, good(4, "é中 SELECT"), "{\"query_id\":\"q5\x01\"}",
		good(6, strings.Repeat("<", 61)+`"\`), `{"query_id":"q7","target":"primary","command":"COM_QUERY","duration_ms":1,"x":"\q"}`,
		good(8, strings.Repeat("y", 9000)), good(9, "no newline at the end"),
	}
	data := []byte(strings.Join(lines, "\n"))
	for cut := 0; cut < 3; cut++ { // the chunk starting mid-file, at a line other than 1
		withMarks := chunk{name: "f", firstLine: 10, data: data, marks: make([]uint64, marksLen(len(data)))}
		scanMarks(data, withMarks.marks)
		searched := withMarks
		searched.marks = nil
		var bm, bs Batch
		var qm, qs Quality
		parseChunk(withMarks, &bm, &qm, 8192)
		parseChunk(searched, &bs, &qs, 8192)
		if fmt.Sprint(bm.Lines) != fmt.Sprint(bs.Lines) || fmt.Sprint(qm) != fmt.Sprint(qs) {
			t.Fatalf("marks: lines %v, issues %+v\nsearch: lines %v, issues %+v", bm.Lines, qm, bs.Lines, qs)
		}
		for i := range bm.Rows {
			if fmt.Sprintf("%+v", bm.Rows[i]) != fmt.Sprintf("%+v", bs.Rows[i]) {
				t.Fatalf("row %d: marks %+v\nsearch %+v", i, bm.Rows[i], bs.Rows[i])
			}
		}
		if wantRows := 5 - cut; len(bm.Rows) != wantRows || qm.Total() != 6 {
			t.Fatalf("from line %d: %d rows and %d issues (%+v), want %d and 6", cut+1, len(bm.Rows), qm.Total(), qm, wantRows)
		}
		data = data[bytes.IndexByte(data, '\n')+1:]
	}
}

// FuzzParseChunk: any chunk parses to the same rows, line numbers and issues with the structural
// marks as by searching bytes.
func FuzzParseChunk(f *testing.F) {
	f.Add([]byte(`{"query_id":"a","target":"shadow","command":"COM_QUERY","duration_ms":1}` + "\n" + `{"query_id":"b\"` + "\n\"}"))
	f.Add([]byte("{\"query_id\":\"\\u003c\",\"target\":\"primary\",\"command\":\"x\",\"duration_ms\":0}\r\n\n \xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		withMarks := chunk{name: "f", firstLine: 1, data: data, marks: make([]uint64, marksLen(len(data)))}
		scanMarks(data, withMarks.marks)
		searched := withMarks
		searched.marks = nil
		var bm, bs Batch
		var qm, qs Quality
		parseChunk(withMarks, &bm, &qm, 100)
		parseChunk(searched, &bs, &qs, 100)
		if fmt.Sprint(bm.Lines) != fmt.Sprint(bs.Lines) || fmt.Sprint(qm) != fmt.Sprint(qs) {
			t.Fatalf("marks: lines %v, issues %+v\nsearch: lines %v, issues %+v", bm.Lines, qm, bs.Lines, qs)
		}
		for i := range bm.Rows {
			if fmt.Sprintf("%+v", bm.Rows[i]) != fmt.Sprintf("%+v", bs.Rows[i]) {
				t.Fatalf("row %d: marks %+v\nsearch %+v", i, bm.Rows[i], bs.Rows[i])
			}
		}
	})
}
