package proxylog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/srctl/srctl/testdouble/trafficgen"
)

// BenchmarkDecode measures the line decoder alone on generated proxy logs (20,000 mirrored
// queries with every quirk), in MB/s of JSONL.
func BenchmarkDecode(b *testing.B) {
	dir := b.TempDir()
	if _, err := trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: 20_000, Endpoints: 60, Hours: 2, Seed: 3,
		Start: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	var data []byte
	err := filepath.WalkDir(filepath.Join(dir, "shadow-logs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".jsonl" {
			return err
		}
		f, err := os.ReadFile(p)
		data = append(data, f...)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var r Row
	for range b.N {
		for _, l := range lines {
			if err := Decode(l, &r); err != nil {
				b.Fatalf("%s: %v", l, err)
			}
		}
	}
}
