// Package objstoretest is the conformance suite every objstore.Bucket must pass. Backends run it
// from their own tests: file and mem always, GCS and S3 through in-process fakes that speak the
// real wire protocols to the real SDK clients.
package objstoretest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/srctl/srctl/lakehouse/objstore"
)

// Run exercises b, which must be empty. Keys are created under a random-free, fixed layout so
// failures are easy to read.
func Run(t *testing.T, b objstore.Bucket) {
	t.Helper()
	ctx := context.Background()

	t.Run("PutGetRoundTrip", func(t *testing.T) {
		data := []byte("{\"a\":1}\n{\"a\":2}\n")
		mustPut(t, b, "rt/one.jsonl", data)
		if got := mustGet(t, b, "rt/one.jsonl"); !bytes.Equal(got, data) {
			t.Fatalf("got %q, want %q", got, data)
		}
	})
	t.Run("EmptyObject", func(t *testing.T) {
		mustPut(t, b, "rt/empty", nil)
		if got := mustGet(t, b, "rt/empty"); len(got) != 0 {
			t.Fatalf("got %d bytes", len(got))
		}
	})
	t.Run("LargeObject", func(t *testing.T) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 6<<16) // 6 MiB: above single-chunk sizes of SDKs
		mustPut(t, b, "rt/large.bin", data)
		if got := mustGet(t, b, "rt/large.bin"); !bytes.Equal(got, data) {
			t.Fatalf("large object corrupted: got %d bytes", len(got))
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		mustPut(t, b, "rt/ow", []byte("old"))
		mustPut(t, b, "rt/ow", []byte("new"))
		if got := string(mustGet(t, b, "rt/ow")); got != "new" {
			t.Fatalf("got %q after overwrite", got)
		}
	})
	t.Run("NotExist", func(t *testing.T) {
		r, err := b.Get(ctx, "rt/missing")
		if err == nil {
			// Some SDKs report absence on first read rather than on open.
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil || !b.IsNotExist(err) {
			t.Fatalf("Get of a missing key: err=%v, IsNotExist=false", err)
		}
		if b.IsNotExist(fmt.Errorf("other")) {
			t.Fatal("IsNotExist true for an unrelated error")
		}
	})
	t.Run("InvalidKeys", func(t *testing.T) {
		for _, k := range []string{"", "/abs", "../escape", "a/../../b", "dir/"} {
			if err := b.Put(ctx, k, []byte("x")); err == nil {
				t.Errorf("Put(%q) accepted an invalid key", k)
			}
		}
	})
	t.Run("ListHivePrefixes", func(t *testing.T) {
		keys := []string{
			"p/year=2026/month=03/day=05/hour=14/20260305_140000_00000001.jsonl",
			"p/year=2026/month=03/day=05/hour=14/20260305_143022_a1b2c3d4.jsonl",
			"p/year=2026/month=03/day=05/hour=15/20260305_150000_00000002.jsonl",
			"p/year=2026/month=03/day=06/hour=00/20260306_000000_00000003.jsonl",
			"pother/x.jsonl",
		}
		for i := len(keys) - 1; i >= 0; i-- { // out of order on purpose
			mustPut(t, b, keys[i], []byte(keys[i]))
		}
		check := func(prefix string, want []string) {
			t.Helper()
			var got []string
			if err := b.List(ctx, prefix, func(k string) error { got = append(got, k); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("List(%q) =\n%s\nwant\n%s", prefix, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		check("p/", keys[:4])
		check("p/year=2026/month=03/day=05/hour=14/", keys[:2])
		check("p/year=2026/month=03/day=05/hour=1", keys[:3])
		check("p", keys)
		check("nothing/", nil)
		stop := fmt.Errorf("stop")
		n := 0
		if err := b.List(ctx, "p/", func(string) error { n++; return stop }); err != stop || n != 1 {
			t.Fatalf("List did not stop on callback error: err=%v calls=%d", err, n)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		mustPut(t, b, "del/x", []byte("x"))
		if err := b.Delete(ctx, "del/x"); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "del/x"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := b.Get(ctx, "del/x"); err == nil {
			t.Fatal("object still readable after Delete")
		}
	})
	t.Run("ConcurrentPutsAndAtomicReads", func(t *testing.T) {
		// Writers replace one key with complete payloads while readers read it: every read must be
		// one complete payload, never a mix or a prefix.
		const size = 256 << 10
		payload := func(c byte) []byte { return bytes.Repeat([]byte{c}, size) }
		mustPut(t, b, "atomic/obj", payload('a'))
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 4 {
			wg.Go(func() {
				for i := range 4 {
					if err := b.Put(ctx, "atomic/obj", payload(byte('b'+w*4+i))); err != nil {
						errs <- err
					}
					if err := b.Put(ctx, fmt.Sprintf("atomic/w%d-%d", w, i), []byte("x")); err != nil {
						errs <- err
					}
				}
			})
		}
		for range 4 {
			wg.Go(func() {
				for range 8 {
					r, err := b.Get(ctx, "atomic/obj")
					if err != nil {
						errs <- err
						continue
					}
					got, err := io.ReadAll(r)
					r.Close()
					if err != nil {
						errs <- err
						continue
					}
					if len(got) != size || bytes.Count(got, got[:1]) != size {
						errs <- fmt.Errorf("torn read: %d bytes, first %q", len(got), got[:min(1, len(got))])
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n := 0
		_ = b.List(ctx, "atomic/w", func(string) error { n++; return nil })
		if n != 16 {
			t.Fatalf("listed %d of 16 concurrently written objects", n)
		}
	})
	t.Run("CancelledPut", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.Put(cctx, "cancel/x", []byte("x")); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		if _, err := b.Get(ctx, "cancel/x"); err == nil {
			t.Fatal("a cancelled Put left an object")
		}
	})
	t.Run("StringHasScheme", func(t *testing.T) {
		if !strings.Contains(b.String(), "://") {
			t.Fatalf("String() = %q, want a URI", b.String())
		}
	})
}

func mustPut(t *testing.T, b objstore.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), key, data); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, b objstore.Bucket, key string) []byte {
	t.Helper()
	r, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return data
}
