package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// GCS is a Bucket in Google Cloud Storage. A single-request upload becomes visible only when it
// is finalised, which gives Put its atomicity.
type GCS struct {
	client *storage.Client
	owned  bool
	bucket string
	prefix string
}

func openGCS(ctx context.Context, bucket, prefix string, opts Options) (*GCS, error) {
	var copts []option.ClientOption
	if opts.GCSEndpoint != "" {
		copts = append(copts, option.WithEndpoint(opts.GCSEndpoint), option.WithoutAuthentication())
	}
	c, err := storage.NewClient(ctx, copts...)
	if err != nil {
		return nil, fmt.Errorf("opening GCS client for gs://%s: %w", bucket, err)
	}
	g := NewGCS(c, bucket, prefix)
	g.owned = true
	return g, nil
}

// NewGCS wraps an existing client; Close does not close it.
func NewGCS(c *storage.Client, bucket, prefix string) *GCS {
	return &GCS{client: c, bucket: bucket, prefix: prefix}
}

func (g *GCS) obj(key string) *storage.ObjectHandle {
	return g.client.Bucket(g.bucket).Object(joinKey(g.prefix, key))
}

func (g *GCS) Put(ctx context.Context, key string, data []byte) error {
	if err := validateKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // cancelling before Close aborts the upload: no partial object
	w := g.obj(key).NewWriter(ctx)
	w.ChunkSize = 0 // one request: the object appears whole or not at all
	w.ContentType = contentType(key)
	if _, err := w.Write(data); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("put %s: %w", g.url(key), err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("put %s: %w", g.url(key), err)
	}
	return nil
}

func (g *GCS) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := g.obj(key).NewReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", g.url(key), err)
	}
	return r, nil
}

func (g *GCS) List(ctx context.Context, prefix string, fn func(string) error) error {
	full := joinKey(g.prefix, prefix)
	if prefix == "" && g.prefix != "" {
		full = g.prefix + "/"
	}
	it := g.client.Bucket(g.bucket).Objects(ctx, &storage.Query{Prefix: full})
	strip := len(joinKey(g.prefix, "")) // "" or "prefix/"
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", g.url(prefix), err)
		}
		if err := fn(attrs.Name[strip:]); err != nil {
			return err
		}
	}
}

func (g *GCS) Delete(ctx context.Context, key string) error {
	if err := g.obj(key).Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("delete %s: %w", g.url(key), err)
	}
	return nil
}

func (g *GCS) IsNotExist(err error) bool { return errors.Is(err, storage.ErrObjectNotExist) }
func (g *GCS) String() string            { return g.url("") }
func (g *GCS) url(key string) string     { return "gs://" + g.bucket + "/" + joinKey(g.prefix, key) }

func (g *GCS) Close() error {
	if g.owned {
		return g.client.Close()
	}
	return nil
}

func contentType(key string) string {
	if len(key) > 6 && key[len(key)-6:] == ".jsonl" {
		return "application/x-ndjson"
	}
	return "application/octet-stream"
}
