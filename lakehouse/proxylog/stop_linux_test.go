package proxylog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srctl/srctl/lakehouse"
)

// TestStoppedReadClosesItsFiles: a read stopped by its process function after the first batch
// (readers then wait for buffers that drained chunks give back, or for the context) returns, and
// has closed every file it opened: /proc/self/fd links to none of them when Read returns.
func TestStoppedReadClosesItsFiles(t *testing.T) {
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
		objs = append(objs, lakehouse.Object{Name: path, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }, Size: int64(b.Len())})
	}
	stop := errors.New("seen enough")
	for _, workers := range []int{1, 3} {
		_, err := Read(context.Background(), objs, Options{Workers: workers, ChunkBytes: 4096},
			func(int, *Batch) error { return stop })
		if !errors.Is(err, stop) {
			t.Fatalf("workers %d: Read returned %v, want the process error", workers, err)
		}
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		var open []string
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir) {
				open = append(open, target)
			}
		}
		if len(open) > 0 {
			t.Errorf("workers %d: files still open after the read stopped: %s", workers, strings.Join(open, ", "))
		}
	}
}
