package trafficgen

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealShape: the real shape's rows look like a Go proxy's logs of analytic traffic.
func TestRealShape(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(Config{Dir: dir, Queries: 6000, Endpoints: 300, Hours: 1, Seed: 3, Shape: ShapeReal,
		Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "shadow-logs", "*", "*", "*", "*", "*.jsonl"))
	var rows, escaped, textless, longest int
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r struct {
				Command string `json:"command"`
				Text    string `json:"query_text"`
			}
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue
			}
			rows++
			if strings.Contains(sc.Text(), `\u003c`) || strings.Contains(sc.Text(), `\u003e`) || strings.Contains(sc.Text(), `\u0026`) {
				escaped++
			}
			if r.Text == "" {
				textless++
			}
			longest = max(longest, len(r.Text))
		}
		fh.Close()
	}
	if escaped*10 < rows*8 {
		t.Errorf("%d of %d rows carry escaped <, > or &; want most", escaped, rows)
	}
	// Commands without text: about 3% of rows, plus the COM_STMT_EXECUTE endpoint's rows.
	if share := float64(textless) / float64(rows); share < 0.02 || share > 0.15 {
		t.Errorf("%.1f%% of rows have no text; want a few percent", 100*share)
	}
	if longest < 1000 || longest > 21000 {
		t.Errorf("longest text %d bytes; want long reports up to about 20 KB", longest)
	}
	if _, err := Generate(Config{Dir: t.TempDir(), Queries: 10, Shape: "huge"}); err == nil {
		t.Error("an unknown shape was accepted")
	}
}
