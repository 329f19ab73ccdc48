// Package objstore stores immutable objects under a URI-chosen backend: a local directory
// (file://DIR or a plain path), Google Cloud Storage (gs://bucket/prefix), S3 (s3://bucket/prefix)
// and an in-process map for tests (mem://name).
//
// The model: a Bucket is a flat key space under one prefix, written whole-object. Every Put is
// atomic — a reader sees the previous object or the complete new one, never a part — which is
// what lets the collector's readers list a partition while it is being written. Callers classify
// errors with IsNotExist and never import a cloud SDK's error types.
package objstore

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
)

// Bucket is the read-write view of one store. All methods are safe for concurrent use and honour
// ctx cancellation; a cancelled Put leaves no object behind (or the previous one).
type Bucket interface {
	// Put stores data under key, replacing any object there, atomically. Idempotent. data is
	// the caller's again when Put returns (writers put views of buffers they reuse).
	Put(ctx context.Context, key string, data []byte) error
	// Get opens the object at key; the error satisfies IsNotExist when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List calls fn for every key that starts with prefix, in lexical order. A non-nil error
	// from fn stops the listing and is returned.
	List(ctx context.Context, prefix string, fn func(key string) error) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// IsNotExist reports whether err means the object does not exist.
	IsNotExist(err error) bool
	// String is the bucket's URI, safe to log (no credentials).
	String() string
	// Close releases clients the bucket opened itself.
	Close() error
}

// Options carries backend settings that are not part of the URI. Zero values mean the backend's
// own defaults (application-default credentials, the AWS default chain, etc.).
type Options struct {
	// S3Endpoint overrides the S3 endpoint (MinIO, test fakes). AWS_ENDPOINT_URL_S3 also works.
	S3Endpoint string
	// S3Region is the bucket region; defaults to AWS_REGION, else us-east-1.
	S3Region string
	// S3PathStyle addresses buckets as endpoint/bucket/key (needed by most S3 look-alikes).
	S3PathStyle bool
	// GCSEndpoint overrides the GCS JSON API endpoint (STORAGE_EMULATOR_HOST also works).
	GCSEndpoint string
}

// Open returns the Bucket a URI names.
func Open(ctx context.Context, uri string, opts Options) (Bucket, error) {
	scheme, bucket, prefix, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	switch scheme {
	case "file":
		return NewFile(prefix)
	case "mem":
		return NewMem(bucket + "/" + prefix), nil
	case "gs":
		return openGCS(ctx, bucket, prefix, opts)
	case "s3":
		return openS3(ctx, bucket, prefix, opts)
	}
	return nil, fmt.Errorf("object store %q: unsupported scheme %q (want file://, gs://, s3://, mem:// or a path)", uri, scheme)
}

// ParseURI splits a store URI. For file URIs (and plain paths) prefix is the directory.
func ParseURI(uri string) (scheme, bucket, prefix string, err error) {
	if uri == "" {
		return "", "", "", fmt.Errorf("object store URI is empty")
	}
	if !strings.Contains(uri, "://") {
		return "file", "", uri, nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", "", fmt.Errorf("object store URI %q: %w", uri, err)
	}
	if u.User != nil {
		return "", "", "", fmt.Errorf("object store URI %s://%s: credentials do not belong in the URI; use the backend's credential chain", u.Scheme, u.Host)
	}
	switch u.Scheme {
	case "file":
		p := u.Host + u.Path
		if p == "" {
			return "", "", "", fmt.Errorf("object store URI %q: no directory", uri)
		}
		return "file", "", p, nil
	case "gs", "s3", "mem":
		if u.Host == "" && u.Scheme != "mem" {
			return "", "", "", fmt.Errorf("object store URI %q: no bucket", uri)
		}
		return u.Scheme, u.Host, strings.Trim(u.Path, "/"), nil
	}
	return u.Scheme, u.Host, u.Path, nil
}

// joinKey puts key under prefix with exactly one slash between them.
func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return strings.TrimSuffix(prefix, "/") + "/" + key
}

// validateKey rejects keys that could escape the bucket's prefix or that no backend can hold.
func validateKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("invalid object key %q", key)
	}
	if path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." {
		return fmt.Errorf("invalid object key %q: not a clean relative path", key)
	}
	return nil
}
