package objstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/objstore/objstoretest"
)

func TestFileConformance(t *testing.T) {
	b, err := objstore.Open(context.Background(), "file://"+t.TempDir(), objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

func TestPlainPathConformance(t *testing.T) {
	b, err := objstore.Open(context.Background(), t.TempDir()+"/nested/dir", objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

func TestMemConformance(t *testing.T) {
	b, err := objstore.Open(context.Background(), "mem://"+t.Name()+"/prefix", objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

// TestGCSConformance runs the suite through the real cloud.google.com/go/storage client against
// fake-gcs-server serving in-process over HTTP.
func TestGCSConformance(t *testing.T) {
	for _, prefix := range []string{"", "starrocks-query-profiles/prod"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			objstoretest.Run(t, objstoretest.FakeGCS(t, "lake", prefix))
		})
	}
}

// TestS3Conformance runs the suite through the real AWS SDK v2 client against gofakes3 serving
// in-process over HTTP.
func TestS3Conformance(t *testing.T) {
	for _, prefix := range []string{"", "proxy-logs"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			objstoretest.Run(t, objstoretest.FakeS3(t, "lake", prefix))
		})
	}
}

func TestParseURI(t *testing.T) {
	for _, tc := range []struct{ in, scheme, bucket, prefix string }{
		{"/var/lib/x", "file", "", "/var/lib/x"},
		{"rel/dir", "file", "", "rel/dir"},
		{"file:///abs/dir", "file", "", "/abs/dir"},
		{"gs://b/p/q/", "gs", "b", "p/q"},
		{"s3://b", "s3", "b", ""},
		{"mem://t", "mem", "t", ""},
	} {
		s, b, p, err := objstore.ParseURI(tc.in)
		if err != nil || s != tc.scheme || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseURI(%q) = %q %q %q %v", tc.in, s, b, p, err)
		}
	}
	for _, bad := range []string{"", "gs://", "s3://user:secret@b/p", "ftp://x/y"} {
		_, err := objstore.Open(context.Background(), bad, objstore.Options{})
		if err == nil {
			t.Errorf("Open(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks credentials: %v", err)
		}
	}
}
