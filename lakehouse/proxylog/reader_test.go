package proxylog

import (
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
