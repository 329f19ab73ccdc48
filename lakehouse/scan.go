package lakehouse

import (
	"context"
	"io"
)

// ObjectReader is what ScanJSONL needs from a store; every objstore.Bucket has it.
type ObjectReader interface {
	List(ctx context.Context, prefix string, fn func(key string) error) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// ScanJSONL calls fn for every line of every .jsonl or .jsonl.gz object under prefix, in key
// order, through ReadJSONL. A line that is not a T reaches fn as a *jsonl.SyntaxError naming the
// object and line, with the zero T; fn decides whether that stops the scan (return it) or not
// (return nil). An object that cannot be read stops it (*ObjectError).
func ScanJSONL[T any](ctx context.Context, store ObjectReader, prefix string, fn func(rec T, err error) error) error {
	return store.List(ctx, prefix, func(key string) error {
		if !IsJSONLFile(key) {
			return nil
		}
		o := Object{Name: key, Size: -1, Open: func(ctx context.Context) (io.ReadCloser, error) { return store.Get(ctx, key) }}
		return ReadJSONL(ctx, o, func(rec T, _ int, err error) error { return fn(rec, err) })
	})
}
