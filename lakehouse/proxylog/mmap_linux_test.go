package proxylog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srctl/srctl/lakehouse"
)

// TestStoppedReadUnmapsItsFiles: a read stopped by its process function (or its context) after
// the first batch still unmaps every file it mapped, those whose chunks were drained unparsed
// included: /proc/self/maps names none of them when Read returns.
func TestStoppedReadUnmapsItsFiles(t *testing.T) {
	dir := t.TempDir()
	var objs []lakehouse.Object
	for f := range 6 {
		path := filepath.Join(dir, fmt.Sprintf("logs-%d.jsonl", f))
		var b strings.Builder
		for i := range 2000 {
			fmt.Fprintf(&b, `{"query_id":"q%d-%d","target":"primary","command":"COM_QUERY","duration_ms":1}`+"\n", f, i)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, lakehouse.Object{Name: path, Path: path, Size: int64(b.Len())})
	}
	stop := errors.New("seen enough")
	for _, workers := range []int{1, 3} {
		_, err := Read(context.Background(), objs, Options{Workers: workers, ChunkBytes: 4096},
			func(int, *Batch) error { return stop })
		if !errors.Is(err, stop) {
			t.Fatalf("workers %d: Read returned %v, want the process error", workers, err)
		}
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(maps), dir) {
			var left []string
			for _, line := range strings.Split(string(maps), "\n") {
				if strings.Contains(line, dir) {
					left = append(left, line)
				}
			}
			t.Errorf("workers %d: files still mapped after the read stopped:\n%s", workers, strings.Join(left, "\n"))
		}
	}
}
