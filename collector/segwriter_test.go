package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSegmentWriterKeepsOrder mixes small entries (gathered) and large ones (written at once with
// what was gathered in front) and reads the file back: every byte in append order, nothing
// written twice, and the gathered tail only after flush.
func TestSegmentWriterKeepsOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w segmentWriter
	w.reset(f)
	var want bytes.Buffer
	big := []byte(strings.Repeat("p", gatherBytes/8+1))
	for i := range 50 {
		small := []byte(strings.Repeat(string(rune('a'+i%26)), 100+i))
		if err := w.write(small, []byte("\n")); err != nil {
			t.Fatal(err)
		}
		want.Write(small)
		want.WriteString("\n")
		if i%7 == 0 {
			head, end := []byte("{head:"), []byte("}\n")
			if err := w.write(head, big, nil, end); err != nil { // an empty part is no write
				t.Fatal(err)
			}
			want.Write(head)
			want.Write(big)
			want.Write(end)
		}
	}
	w.write([]byte("tail\n")) // gathered after the last large entry
	want.WriteString("tail\n")
	got, _ := os.ReadFile(path)
	if len(got) >= want.Len() || !bytes.Equal(got, want.Bytes()[:len(got)]) {
		t.Fatalf("before flush: %d bytes on disk, want a prefix of %d shorter than all", len(got), want.Len())
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ = os.ReadFile(path); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("after flush: %d bytes on disk, want %d in append order", len(got), want.Len())
	}
	// Gathering alone past gatherBytes writes out too.
	f2, _ := os.Create(path + "2")
	defer f2.Close()
	w.reset(f2)
	for range gatherBytes / 1000 * 2 {
		w.write(bytes.Repeat([]byte("x"), 1000))
	}
	if st, _ := f2.Stat(); st.Size() == 0 {
		t.Fatal("gathered past gatherBytes without a write")
	}
}

// TestSegmentWriterErrorIsSticky: after a failed write nothing more is appended (the segment may
// end torn), as with bufio.Writer.
func TestSegmentWriterErrorIsSticky(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	os.WriteFile(path, nil, 0o644)
	ro, err := os.Open(path) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var w segmentWriter
	w.reset(ro)
	if err := w.write([]byte("small")); err != nil {
		t.Fatalf("a gathered entry failed before any write: %v", err)
	}
	err = w.write(bytes.Repeat([]byte("x"), gatherBytes))
	if err == nil || !strings.Contains(err.Error(), "appending to the journal") {
		t.Fatalf("write to a read-only file: %v", err)
	}
	if err2 := w.write([]byte("more")); err2 != err {
		t.Fatalf("after a failure, write = %v, want the first error again", err2)
	}
	if err2 := w.flush(); err2 != err {
		t.Fatalf("after a failure, flush = %v, want the first error again", err2)
	}
}
