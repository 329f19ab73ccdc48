package lakehouse

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/srctl/srctl/lakehouse/jsonl"
)

// ObjectReader is what ScanJSONL needs from a store; every objstore.Bucket has it.
type ObjectReader interface {
	List(ctx context.Context, prefix string, fn func(key string) error) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// ScanJSONL calls fn for every line of every .jsonl object under prefix, in key order. A line
// that is not a T reaches fn as a *jsonl.SyntaxError naming the object and line, with the zero
// T; fn decides whether that stops the scan (return it) or not (return nil).
func ScanJSONL[T any](ctx context.Context, store ObjectReader, prefix string, fn func(rec T, err error) error) error {
	return store.List(ctx, prefix, func(key string) error {
		if !strings.HasSuffix(key, ".jsonl") {
			return nil
		}
		r, err := store.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("opening %s: %w", key, err)
		}
		defer r.Close()
		jr := jsonl.NewReader[T](r, key)
		for jr.Scan() {
			if err := fn(jr.Record()); err != nil {
				return err
			}
		}
		return jr.Err()
	})
}
